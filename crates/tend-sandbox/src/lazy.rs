//! A sandbox chosen when the first command needs it.

use std::sync::{Arc, OnceLock};

use crate::Sandbox;

/// A sandbox chosen on first use. Cheap to clone; clones share the choice.
#[derive(Clone)]
pub struct Lazy {
    inner: Arc<LazyInner>,
}

struct LazyInner {
    choose: Box<dyn Fn() -> Sandbox + Send + Sync>,
    chosen: OnceLock<Sandbox>,
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.inner.chosen.get() {
            Some(sandbox) => f.debug_tuple("Lazy").field(sandbox).finish(),
            None => f.write_str("Lazy(not chosen yet)"),
        }
    }
}

impl Lazy {
    /// The sandbox, chosen now if it was not yet.
    pub fn get(&self) -> &Sandbox {
        self.inner
            .chosen
            .get_or_init(|| match (self.inner.choose)() {
                // A choice that defers again would never end.
                Sandbox::Lazy(_) => Sandbox::Unavailable {
                    reason: "internal error: the sandbox choice was deferred twice".to_owned(),
                },
                other => other,
            })
    }
}

impl Sandbox {
    /// A sandbox that `choose` picks when the first command needs it.
    pub fn lazy(choose: impl Fn() -> Sandbox + Send + Sync + 'static) -> Sandbox {
        Sandbox::Lazy(Lazy {
            inner: Arc::new(LazyInner {
                choose: Box::new(choose),
                chosen: OnceLock::new(),
            }),
        })
    }
}
