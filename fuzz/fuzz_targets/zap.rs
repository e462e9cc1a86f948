#![no_main]
// Any bytes must come back as Ok or Err from the Zap parser; a panic is the bug.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = vulntrack_scanners::parse(vulntrack_scanners::Format::Zap, data);
});
