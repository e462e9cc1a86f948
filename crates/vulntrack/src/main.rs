/// mimalloc gives freed memory back to the system: after a sign-in flood
/// (argon2 allocates ~19 MiB per hash, on whichever blocking thread runs
/// it) glibc's per-thread arenas kept hundreds of MB resident for good.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    vulntrack::cli::main()
}
