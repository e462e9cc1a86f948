fn main() -> std::process::ExitCode {
    vulntrack::cli::main()
}
