//! `ifa view`.

/// Arguments of `ifa view`.
#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// Arguments are not defined yet.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub fn run(_args: ViewArgs) -> anyhow::Result<()> {
    anyhow::bail!("`ifa view` is not built yet")
}
