//! `ifa synth`.

/// Arguments of `ifa synth`.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Arguments are not defined yet.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub fn run(_args: SynthArgs) -> anyhow::Result<()> {
    anyhow::bail!("`ifa synth` is not built yet")
}
