/// mimalloc gives freed memory back to the system: after a sign-in flood
/// (argon2 allocates ~19 MiB per hash, on whichever blocking thread runs
/// it) glibc's per-thread arenas kept hundreds of MB resident for good.
/// Version 2 (the `v2` feature) purges freed pages after 10 ms; version 3
/// waits a second, and an import of a 100 MB report, which frees and
/// allocates its findings batch by batch, grew 60 MB more with it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    keep_memory_in_small_pages();
    vulntrack::cli::main()
}

/// Where the system backs memory with transparent huge pages `always`,
/// each page mimalloc touches in its arena makes a whole 2 MiB resident:
/// an idle server held 18 MB of huge pages (41 MB resident, 27 MB
/// without). Ordinary pages keep the resident set to what is used. Not
/// fatal if refused (an old kernel): only memory is at stake.
#[cfg(target_os = "linux")]
fn keep_memory_in_small_pages() {
    if let Err(error) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("note: could not opt out of transparent huge pages: {error}");
    }
}

#[cfg(not(target_os = "linux"))]
fn keep_memory_in_small_pages() {}
