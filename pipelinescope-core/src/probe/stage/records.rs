//! Counting the records of eager stages' inputs and outputs from their lengths.

/// Anything whose records can be counted: the inputs and outputs of eager stages.
pub trait Records {
    /// Number of records held.
    fn records(&self) -> u64;
}

macro_rules! records_by_len {
    ($($t:ty => [$($g:tt)*]),* $(,)?) => {
        $(impl<$($g)*> Records for $t {
            #[inline]
            fn records(&self) -> u64 {
                self.len() as u64
            }
        })*
    };
}

records_by_len! {
    [T] => [T],
    Vec<T> => [T],
    std::collections::VecDeque<T> => [T],
    std::collections::LinkedList<T> => [T],
    std::collections::BinaryHeap<T> => [T],
    std::collections::HashMap<K, V, S> => [K, V, S],
    std::collections::BTreeMap<K, V> => [K, V],
    std::collections::HashSet<T, S> => [T, S],
    std::collections::BTreeSet<T> => [T],
    str => [],
    String => [],
}

impl<T, const N: usize> Records for [T; N] {
    #[inline]
    fn records(&self) -> u64 {
        N as u64
    }
}

impl<R: Records + ?Sized> Records for &R {
    #[inline]
    fn records(&self) -> u64 {
        (**self).records()
    }
}

impl<R: Records + ?Sized> Records for &mut R {
    #[inline]
    fn records(&self) -> u64 {
        (**self).records()
    }
}

impl<R: Records + ?Sized> Records for Box<R> {
    #[inline]
    fn records(&self) -> u64 {
        (**self).records()
    }
}

impl<R: Records> Records for Option<R> {
    #[inline]
    fn records(&self) -> u64 {
        self.as_ref().map_or(0, Records::records)
    }
}

impl<R: Records, E> Records for Result<R, E> {
    #[inline]
    fn records(&self) -> u64 {
        self.as_ref().map_or(0, Records::records)
    }
}

impl Records for () {
    #[inline]
    fn records(&self) -> u64 {
        0
    }
}
