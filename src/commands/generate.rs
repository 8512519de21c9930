//! Hidden `__generate [--out-dir DIR]`: writes `completions/` and `man/`
//! (`crate::docs`) from the clap definition.

use crate::cli::GenerateArgs;

pub fn run(args: GenerateArgs) -> anyhow::Result<i32> {
    let out_dir = match args.out_dir {
        Some(dir) => dir,
        None => {
            // `cargo run -- __generate` from somewhere else would scatter files.
            let manifest = std::fs::read_to_string("Cargo.toml").unwrap_or_default();
            if !manifest.contains("name = \"kubectl-warpdrive\"") {
                return Err(crate::error::BadInput::new(
                    "__generate: the current directory is not the kubectl-warpdrive repository (no Cargo.toml for it): run it from the repository root or pass --out-dir DIR",
                )
                .into());
            }
            std::path::PathBuf::from(".")
        }
    };
    let written = crate::docs::generate(&out_dir)?;
    for path in written {
        // A closed pipe (`| head`) is no reason to fail: the files are written.
        crate::outln!("{path}");
    }
    Ok(0)
}
