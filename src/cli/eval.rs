//! `ifa eval`.

/// Arguments of `ifa eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Arguments are not defined yet.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("`ifa eval` is not built yet")
}
