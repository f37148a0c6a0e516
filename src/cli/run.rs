//! `ifa run`.

/// Arguments of `ifa run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Arguments are not defined yet.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub fn run(_args: RunArgs) -> anyhow::Result<()> {
    anyhow::bail!("`ifa run` is not built yet")
}
