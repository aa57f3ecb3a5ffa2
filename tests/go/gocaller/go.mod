module nsexec.test/gocaller

go 1.19
