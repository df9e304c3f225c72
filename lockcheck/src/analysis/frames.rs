//! Which frames of a symbolised stack a report shows: the user's, innermost first, as
//! `function at file:line`, from the frame that called into a lock up to where the program's
//! own code starts (`main`'s runtime shim, the test harness). Shared by the in-process
//! symboliser (`record/stack.rs`) and the CLI, which symbolises the code addresses traces
//! carry, so that both show a stack the same way.

use std::path::Path;

/// The most frames a report shows.
pub const MAX_FRAMES: usize = 16;

/// Prefixes of frames that belong to lockcheck, its locks or the runtime, not the user.
const OWN_FRAMES: &[&str] = &[
    "lockcheck::",
    "<lockcheck::",
    "lock_api::",
    "<lock_api::",
    "parking_lot",
    "<parking_lot",
    "backtrace::",
    "std::",
    "<std::",
    "core::",
    "<core::",
    "alloc::",
    "<alloc::",
    // The runtime's own symbols (`__rust_try`, catch_unwind's landing pad), which only a
    // symbol table names: debug info places them in the standard library's files.
    "__rust",
];

/// Frames where the user's part of the stack ends.
const ROOT_FRAMES: &[&str] = &[
    "std::rt::lang_start",
    "std::sys::backtrace::__rust_begin_short_backtrace",
    "test::__rust_begin_short_backtrace",
    "test::run_test",
];

/// Whether `name` is a method of the standard library's impl of one of its own traits:
/// `<X as core::…>::f` where `X` is not a type of the program's (a primitive, a generic
/// parameter, a reference, slice, array, tuple, pointer, function pointer or trait object, or
/// a type of the standard library).
/// A symbol table, with no source files, names std's iterator adapters and closure shims this
/// way; `<app::Account as core::fmt::Debug>::fmt` stays the program's.
fn std_impl(name: &str) -> bool {
    let Some((self_type, rest)) = name.strip_prefix('<').and_then(|n| n.split_once(" as ")) else { return false };
    let std_trait = ["core::", "std::", "alloc::"].iter().any(|krate| rest.starts_with(krate));
    let std_type = ["core::", "std::", "alloc::", "&", "*", "[", "(", "fn(", "unsafe ", "extern ", "dyn "]
        .iter()
        .any(|p| self_type.starts_with(p))
        || !self_type.contains("::");
    std_trait && std_type
}

/// What one symbol (one function, inlined or not, at one code address) contributes to a
/// trimmed stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// A user frame: `function at file:line`.
    Frame(String),
    /// lockcheck's, a lock crate's or the runtime's own frame, or one without a name.
    Skip,
    /// Where the user's part of the stack ends.
    Root,
}

impl Symbol {
    /// Classifies a symbol by its demangled `name` (without the hash), source `file` and
    /// `line`; a file under `cwd` (the traced process's working directory) is shown relative
    /// to it.
    pub fn new(name: Option<&str>, file: Option<&Path>, line: Option<u32>, cwd: Option<&Path>) -> Symbol {
        let Some(name) = name else { return Symbol::Skip };
        if ROOT_FRAMES.iter().any(|root| name.starts_with(root)) {
            return Symbol::Root;
        }
        if OWN_FRAMES.iter().any(|own| name.starts_with(own)) {
            return Symbol::Skip;
        }
        // The standard library's own frames (iterator adapters, closures' shims), by their
        // source file where the debug info gives it, else by their name.
        if file.is_some_and(|f| f.starts_with("/rustc/")) || std_impl(name) {
            return Symbol::Skip;
        }
        let at = match (file, line) {
            (Some(file), Some(line)) => {
                let file = cwd.and_then(|cwd| file.strip_prefix(cwd).ok()).unwrap_or(file);
                format!(" at {}:{line}", file.display())
            }
            _ => String::new(),
        };
        Symbol::Frame(format!("{name}{at}"))
    }

    /// Appends the frame, if any, to `frames`; returns whether the stack goes on.
    pub fn add_to(&self, frames: &mut Vec<String>) -> bool {
        match self {
            Symbol::Root => false,
            Symbol::Skip => true,
            Symbol::Frame(frame) => {
                frames.push(frame.clone());
                frames.len() < MAX_FRAMES
            }
        }
    }
}

/// The trimmed stack of `symbols`: every code address's symbols in turn (inlined functions
/// first, as DWARF lists them), innermost address first.
pub fn trim<'a>(symbols: impl IntoIterator<Item = &'a Symbol>) -> Vec<String> {
    let mut frames = Vec::new();
    for symbol in symbols {
        if !symbol.add_to(&mut frames) {
            break;
        }
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_trimmed_to_the_users() {
        let cwd = Path::new("/src/app");
        let frame = |name: &str, file: &str| {
            let mut frames = Vec::new();
            let more = Symbol::new(Some(name), Some(Path::new(file)), Some(7), Some(cwd)).add_to(&mut frames);
            (frames, more)
        };
        assert_eq!(
            frame("app::transfer", "/src/app/src/bank.rs"),
            (vec!["app::transfer at src/bank.rs:7".into()], true)
        );
        assert_eq!(frame("lockcheck::check::wait", "/src/app/x.rs"), (vec![], true));
        assert_eq!(frame("<alloc::boxed::Box<F> as FnOnce>::call_once", "/x.rs"), (vec![], true));
        assert_eq!(frame("app::{{closure}}", "/rustc/abc/library/core/src/iter.rs"), (vec![], true));
        assert_eq!(frame("std::rt::lang_start::{{closure}}", "/x.rs"), (vec![], false));
        let named = |name: &str| Symbol::new(Some(name), None, None, None);
        assert_eq!(named("<i64 as core::iter::traits::accum::Sum>::sum"), Symbol::Skip);
        assert_eq!(named("__rust_try"), Symbol::Skip);
        assert_eq!(named("<F as core::ops::function::FnOnce<A>>::call_once"), Symbol::Skip);
        assert_eq!(named("<&mut F as core::ops::function::FnMut<A>>::call_mut"), Symbol::Skip);
        assert_eq!(named("<fn() -> app::Out as core::ops::function::FnOnce<()>>::call_once"), Symbol::Skip);
        assert_eq!(
            named("<app::Account as core::fmt::Debug>::fmt"),
            Symbol::Frame("<app::Account as core::fmt::Debug>::fmt".into())
        );
        assert_eq!(named("<u8 as app::Checksum>::sum"), Symbol::Frame("<u8 as app::Checksum>::sum".into()));
        let mut frames = Vec::new();
        assert!(Symbol::new(None, None, None, None).add_to(&mut frames) && frames.is_empty());
        let mut frames = vec![String::new(); MAX_FRAMES - 1];
        assert!(!Symbol::new(Some("app::f"), None, None, None).add_to(&mut frames));
        assert_eq!(frames.last().unwrap(), "app::f");
    }

    #[test]
    fn trimming_stops_at_the_root() {
        let symbols = [
            Symbol::Skip,
            Symbol::Frame("app::a".into()),
            Symbol::Frame("app::b".into()),
            Symbol::Root,
            Symbol::Frame("after the root".into()),
        ];
        assert_eq!(trim(&symbols), ["app::a", "app::b"]);
    }
}
