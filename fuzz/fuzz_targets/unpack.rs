#![no_main]
// A .gz or .zip upload, opened within 1 MiB, then read as `format=auto`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(report) = vulntrack_scanners::unpack(data.to_vec(), 1 << 20)
        && let Ok(format) = vulntrack_scanners::detect(&report)
    {
        let _ = vulntrack_scanners::parse(format, &report);
    }
});
