fn main() -> std::process::ExitCode {
    qualify::cli::main()
}
