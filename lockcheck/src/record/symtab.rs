//! Names a stack's frames from the symbol tables of the objects they lie in: the stacks of the
//! findings lockcheck prints in-process (`LOCKCHECK_ON_CYCLE=warn`).
//!
//! A function's name is in the object's ELF symbol table; its file and line are in the debug
//! info. Loading the debug info cost a debug build +225 ms and +69 MiB per process that printed
//! a finding (the `bank` example, `cargo bench -p lockcheck-cli --bench observer_effect`), far
//! past the +50 ms and +16 MiB lockcheck allows itself. The symbol table is a memory map of the
//! file, of which only the headers and the symbol and string tables are read, one pass over
//! the symbols per batch of new addresses. So printed warnings name each frame's function; the file, line and column of
//! every acquisition a finding names are its `#[track_caller]` sites, printed beside the stack;
//! and `lockcheck report` (from the trace) and `lockcheck::report()` (asked for by its caller)
//! give every frame its file and line from the debug info.

use std::collections::HashMap;

use object::{Object, ObjectSymbol, SymbolKind};
use parking_lot::Mutex as RawLock;

use crate::analysis::frames::{self, Symbol};
use crate::record::modules::Modules;

/// The functions of the frames at `addresses` (return addresses, innermost first), trimmed to
/// the user's as every report shows them.
pub(crate) fn functions(addresses: &[usize]) -> Vec<String> {
    NAMES.lock().get_or_insert_with(Names::default).functions(addresses)
}

/// The namer and its caches: findings recur at the same few call sites.
static NAMES: RawLock<Option<Names>> = RawLock::new(None);

#[derive(Default)]
struct Names {
    modules: Modules,
    /// Each object file by path; `None` for one that could not be read.
    files: HashMap<String, Option<object::File<'static>>>,
    /// What each code address named.
    symbols: HashMap<usize, Symbol>,
}

impl Names {
    fn functions(&mut self, addresses: &[usize]) -> Vec<String> {
        let unnamed: Vec<usize> = addresses.iter().copied().filter(|ip| !self.symbols.contains_key(ip)).collect();
        for (ip, name) in self.look_up(&unnamed) {
            let symbol = match name {
                Some(name) => Symbol::new(Some(&name), None, None, None),
                None => Symbol::Skip,
            };
            self.symbols.insert(ip, symbol);
        }
        frames::trim(addresses.iter().map(|ip| &self.symbols[ip]))
    }

    /// The demangled name (without its hash) of the function at each return address.
    ///
    /// One pass over each object's symbol table finds every function that contains one of
    /// the calls: no table of all its symbols is built or sorted (that took a debug build
    /// longer than the whole lookup).
    fn look_up(&mut self, ips: &[usize]) -> Vec<(usize, Option<String>)> {
        // The call, not the return address: the call may be a function's last instruction.
        // Grouped by object, as (file address of the call, return address).
        let mut calls: HashMap<String, Vec<(u64, usize)>> = HashMap::new();
        let mut named = Vec::new();
        for &ip in ips {
            match self.modules.containing(ip as u64) {
                Some((path, bias)) => {
                    let call = (ip as u64).wrapping_sub(1).wrapping_sub(bias);
                    calls.entry(path.to_owned()).or_default().push((call, ip));
                }
                None => named.push((ip, None)),
            }
        }
        for (path, mut calls) in calls {
            calls.sort_unstable();
            let file = self.files.entry(path).or_insert_with_key(|path| open(path));
            let mut names = vec![None; calls.len()];
            if let Some(file) = file {
                name_calls(file, &calls, &mut names);
            }
            named.extend(calls.iter().map(|&(_, ip)| ip).zip(names));
        }
        named
    }
}

/// Fills `names[i]` with the function containing `calls[i]` (sorted by address), from the
/// symbol table of `file` (or its dynamic one, when stripped).
fn name_calls(file: &object::File<'static>, calls: &[(u64, usize)], names: &mut [Option<String>]) {
    let symbols = match file.symbol_table() {
        Some(_) => file.symbols(),
        None => file.dynamic_symbols(),
    };
    for symbol in symbols {
        if symbol.kind() != SymbolKind::Text || symbol.size() == 0 {
            continue;
        }
        let (start, end) = (symbol.address(), symbol.address().saturating_add(symbol.size()));
        let first = calls.partition_point(|&(call, _)| call < start);
        let inside = calls[first..].iter().take_while(|&&(call, _)| call < end).count();
        if inside == 0 {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        for slot in &mut names[first..first + inside] {
            slot.get_or_insert_with(|| format!("{:#}", rustc_demangle::demangle(name)));
        }
    }
}

/// The object file at `path`, mapped; `None` when it cannot be read.
#[cold]
fn open(path: &str) -> Option<object::File<'static>> {
    let file = std::fs::File::open(path).ok()?;
    // SAFETY: the file is a loaded object of this very process: the executable (which Linux
    // refuses to open for writing while it runs, `ETXTBSY`) or a shared library the loader
    // has mapped. Build tools replace such files (a new inode) rather than write into them, so
    // the mapping's contents do not change under it.
    let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
    object::File::parse(&*map).ok()?;
    // Kept for the process's life, like the names borrowed from it: one mapping per object,
    // made once, of which only the pages read (headers, symbol and string tables) are resident.
    let data: &'static [u8] = Box::leak(Box::new(map));
    object::File::parse(data).ok()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[inline(never)]
    fn a_user_function() -> Option<crate::record::stack::RawStack> {
        // Through `black_box`: optimised, a tail call would leave no frame of this function.
        std::hint::black_box(crate::record::stack::capture())
    }

    #[test]
    fn a_frame_is_named_by_its_function() {
        let Some(stack) = a_user_function() else { return };
        let mut names = Names::default();
        let functions: Vec<Option<String>> = {
            let found: HashMap<usize, Option<String>> = names.look_up(stack.addresses()).into_iter().collect();
            stack.addresses().iter().map(|ip| found[ip].clone()).collect()
        };
        let at = |name: &str| functions.iter().position(|f| f.as_deref() == Some(name));
        let capture = at("lockcheck::record::stack::capture").expect("the capture names itself");
        let caller = at("lockcheck::record::symtab::tests::a_user_function").expect("and its caller");
        assert_eq!(caller, capture + 1, "{functions:?}");
        // A lockcheck unit test's frames are all lockcheck's or the harness's: trimmed away.
        let trimmed = names.functions(stack.addresses());
        assert_eq!(trimmed, Vec::<String>::new());
    }
}
