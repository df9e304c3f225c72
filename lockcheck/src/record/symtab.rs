//! Names a stack's frames from the symbol tables of the objects they lie in: the stacks of the
//! findings lockcheck prints in-process (`LOCKCHECK_ON_CYCLE=warn`).
//!
//! A function's name is in the object's ELF symbol table; its file and line are in the debug
//! info. Loading the debug info cost a debug build +225 ms and +69 MiB per process that printed
//! a finding (the `bank` example, `cargo bench -p lockcheck-cli --bench observer_effect`), far
//! past the +50 ms and +16 MiB lockcheck allows itself. The symbol table is a memory map of the
//! file, of which only the symbol and string tables are read, and one sorted array of
//! addresses. So printed warnings name each frame's function; the file, line and column of
//! every acquisition a finding names are its `#[track_caller]` sites, printed beside the stack;
//! and `lockcheck report` (from the trace) and `lockcheck::report()` (asked for by its caller)
//! give every frame its file and line from the debug info.

use std::collections::HashMap;

use object::{Object, SymbolMap, SymbolMapName};
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
    /// Each object's symbols by path; `None` for a file that could not be read.
    tables: HashMap<String, Option<SymbolMap<SymbolMapName<'static>>>>,
    /// What each code address named.
    symbols: HashMap<usize, Symbol>,
}

impl Names {
    fn functions(&mut self, addresses: &[usize]) -> Vec<String> {
        for &ip in addresses {
            if !self.symbols.contains_key(&ip) {
                let symbol = self.name(ip);
                self.symbols.insert(ip, symbol);
            }
        }
        frames::trim(addresses.iter().map(|ip| &self.symbols[ip]))
    }

    /// Classifies the function at return address `ip`.
    fn name(&mut self, ip: usize) -> Symbol {
        match self.function(ip) {
            Some(name) => Symbol::new(Some(&name), None, None, None),
            None => Symbol::Skip,
        }
    }

    /// The demangled name (without its hash) of the function at return address `ip`.
    fn function(&mut self, ip: usize) -> Option<String> {
        let (path, bias) = self.modules.containing(ip as u64)?;
        let table = self.tables.entry(path.to_owned()).or_insert_with_key(|path| symbols_of(path));
        // The call, not the return address: the call may be a function's last instruction.
        let call = (ip as u64).wrapping_sub(1).wrapping_sub(bias);
        let symbol = table.as_ref()?.containing(call)?;
        Some(format!("{:#}", rustc_demangle::demangle(symbol.name())))
    }
}

/// The symbols of the object file at `path`, by address (file addresses, as the loader's bias
/// leaves them); `None` when it cannot be read.
#[cold]
fn symbols_of(path: &str) -> Option<SymbolMap<SymbolMapName<'static>>> {
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
    Some(object::File::parse(data).ok()?.symbol_map())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[inline(never)]
    fn a_user_function() -> Option<crate::record::stack::RawStack> {
        crate::record::stack::capture()
    }

    #[test]
    fn a_frame_is_named_by_its_function() {
        let Some(stack) = a_user_function() else { return };
        let mut names = Names::default();
        let functions: Vec<Option<String>> = stack.addresses().iter().map(|&ip| names.function(ip)).collect();
        let at = |name: &str| functions.iter().position(|f| f.as_deref() == Some(name));
        let capture = at("lockcheck::record::stack::capture").expect("the capture names itself");
        let caller = at("lockcheck::record::symtab::tests::a_user_function").expect("and its caller");
        assert_eq!(caller, capture + 1, "{functions:?}");
        // A lockcheck unit test's frames are all lockcheck's or the harness's: trimmed away.
        let trimmed = names.functions(stack.addresses());
        assert_eq!(trimmed, Vec::<String>::new());
    }
}
