//! API keys, kept out of every printed form.

/// A secret string (an API key). `Debug` and `Display` print `[redacted]`; only [`Secret::expose`]
/// gives the value, at the one place that puts it into a request header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn prints_redacted() {
        let secret = Secret::new("sk-ant-very-secret");
        assert_eq!(
            format!("{secret:?} {secret} {secret:#?}"),
            "[redacted] [redacted] [redacted]"
        );
        assert_eq!(secret.expose(), "sk-ant-very-secret");
    }
}
