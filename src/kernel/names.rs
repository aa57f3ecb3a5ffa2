//! Tables of short names packed into one string, each name's length in a
//! byte beside it: a name costs its letters and one byte, where a `&str`
//! in a table costs sixteen more. Pure; unit-tested on the host.

/// Names `0..len()`, in the order given to [`names!`].
#[derive(Clone, Copy)]
pub struct Names {
    all: &'static str,
    lens: &'static [u8],
}

impl Names {
    /// Use [`names!`]: `lens` must add up to the length of `all`.
    pub const fn new(all: &'static str, lens: &'static [u8]) -> Names {
        Names { all, lens }
    }

    #[cfg_attr(not(test), allow(dead_code))] // the tests count them
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// Every name, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static str> + Clone {
        let all = self.all;
        self.lens.iter().scan(0usize, move |at, &n| {
            let start = *at;
            *at += usize::from(n);
            all.get(start..*at)
        })
    }

    /// The index of `name`, if it is one of them.
    pub fn position(&self, name: &[u8]) -> Option<usize> {
        self.iter().position(|n| n.as_bytes() == name)
    }
}

/// `names!["HUP", "INT", ...]` (literals, or `stringify!` of identifiers).
macro_rules! names {
    ($($name:expr),* $(,)?) => {
        $crate::kernel::names::Names::new(concat!($($name),*), &[$($name.len() as u8),*])
    };
}
pub(crate) use names;

#[cfg(test)]
mod tests {
    use super::*;

    const SOME: Names = names!["HUP", "INT", "", "QUIT"];

    #[test]
    fn names_come_back_in_order() {
        assert_eq!(SOME.len(), 4);
        assert_eq!(SOME.iter().collect::<Vec<_>>(), ["HUP", "INT", "", "QUIT"]);
        assert_eq!(SOME.iter().nth(3), Some("QUIT"));
        assert_eq!(SOME.iter().nth(4), None);
        assert_eq!(SOME.position(b"INT"), Some(1));
        assert_eq!(SOME.position(b"QUI"), None);
    }
}
