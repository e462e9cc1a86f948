#![no_main]
// Any bytes must come back as Ok or Err from the nvd feed reader; a panic is the bug.
use vulntrack_scanners::cve_feeds::{Feed, read};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = read(Feed::Nvd, data, |_| Ok(()));
});
