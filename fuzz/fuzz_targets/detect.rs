#![no_main]
// `format=auto`: whatever format the sniffers pick, its parser must not panic on the file.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(format) = vulntrack_scanners::detect(data) {
        let _ = vulntrack_scanners::parse(format, data);
    }
});
