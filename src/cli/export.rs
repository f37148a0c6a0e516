//! `ifa export`.

/// Arguments of `ifa export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Arguments are not defined yet.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub fn run(_args: ExportArgs) -> anyhow::Result<()> {
    anyhow::bail!("`ifa export` is not built yet")
}
