#![no_main]
// The DTD and nesting check every XML format runs first.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = vulntrack_scanners::xml::check("fuzz", data);
});
