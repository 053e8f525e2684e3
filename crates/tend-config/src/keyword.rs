//! Enums spelled as fixed words in files (`engine = "claude"`, `catch_up = "latest"`).

use crate::error::suggest;
use crate::read::Problem;

/// A value chosen from a fixed set of words.
pub trait Keyword: Sized + Copy + 'static {
    /// Every value, in the order the words are listed in hints.
    const ALL: &'static [Self];
    /// What the word names, for messages: "engine", "catch-up policy".
    const WHAT: &'static str;

    fn as_str(self) -> &'static str;

    /// The words, for hints: "none, latest, all".
    fn choices() -> String {
        Self::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses the word, suggesting the closest one when it is misspelled.
    fn parse(text: &str) -> Result<Self, UnknownWord> {
        if let Some(k) = Self::ALL.iter().find(|k| k.as_str() == text) {
            return Ok(*k);
        }
        let words = Self::ALL.iter().map(|k| k.as_str());
        let hint = match suggest(text, words) {
            Some(s) => format!("did you mean `{s}`? Use one of: {}", Self::choices()),
            None => format!("use one of: {}", Self::choices()),
        };
        Err(UnknownWord {
            message: format!("unknown {} `{text}`", Self::WHAT),
            hint: Some(hint),
        })
    }
}

/// Declares a [`Keyword`] enum with `Display`, `FromStr` and `Serialize` as its word.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $crate::keyword::Keyword for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const WHAT: &'static str = $what;

            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::keyword::Keyword::as_str(*self))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::keyword::UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <Self as $crate::keyword::Keyword>::parse(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::keyword::Keyword::as_str(*self))
            }
        }
    };
}

pub(crate) use keyword_enum;

/// A word that is not one of the allowed ones (from `FromStr`, e.g. for CLI flags).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UnknownWord {
    pub message: String,
    pub hint: Option<String>,
}

impl From<UnknownWord> for Problem {
    fn from(e: UnknownWord) -> Self {
        Problem {
            message: e.message,
            hint: e.hint,
            offset: None,
        }
    }
}
