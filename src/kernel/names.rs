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

    /// The length of name `i` (0 past the end), at compile time.
    pub const fn len_of(&self, i: usize) -> usize {
        if i < self.lens.len() {
            self.lens[i] as usize
        } else {
            0
        }
    }

    /// The bytes of name `i` (empty past the end), at compile time.
    pub const fn get(&self, i: usize) -> &'static [u8] {
        let (mut start, mut k) = (0, 0);
        while k < i && k < self.lens.len() {
            start += self.lens[k] as usize;
            k += 1;
        }
        let (_, rest) = self.all.as_bytes().split_at(start);
        let (name, _) = rest.split_at(self.len_of(i));
        name
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
