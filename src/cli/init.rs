use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Template {
    /// B2B: BANT criteria, fit and engagement scores, MQL and SQL.
    Bant,
    /// Enterprise: MEDDPICC criteria over opportunity fields.
    Meddpicc,
    /// Product-led: PQL from trial usage.
    Plg,
}

#[derive(clap::Args)]
pub struct Args {
    /// Folder to create (default: the current folder).
    dir: Option<PathBuf>,
    /// Which starting policy to write.
    #[arg(long, value_enum, default_value_t = Template::Bant)]
    template: Template,
    /// Overwrite files that already exist.
    #[arg(long)]
    force: bool,
}

struct TemplateFile {
    path: &'static str,
    text: &'static str,
}

macro_rules! template {
    ($dir:literal) => {
        &[
            TemplateFile {
                path: "schema.qual",
                text: include_str!(concat!("../../templates/", $dir, "/schema.qual")),
            },
            TemplateFile {
                path: "policy.qual",
                text: include_str!(concat!("../../templates/", $dir, "/policy.qual")),
            },
            TemplateFile {
                path: "policy.test.qual",
                text: include_str!(concat!("../../templates/", $dir, "/policy.test.qual")),
            },
            TemplateFile {
                path: "leads.csv",
                text: include_str!(concat!("../../templates/", $dir, "/leads.csv")),
            },
            TemplateFile {
                path: ".github/workflows/qualify.yml",
                text: include_str!("../../templates/workflow.yml"),
            },
        ]
    };
}

fn files(template: Template) -> &'static [TemplateFile] {
    match template {
        Template::Bant => template!("bant"),
        Template::Meddpicc => template!("meddpicc"),
        Template::Plg => template!("plg"),
    }
}

pub fn run(args: Args) -> Result<ExitCode, String> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let files = files(args.template);
    if !args.force {
        let existing: Vec<String> = files
            .iter()
            .map(|f| dir.join(f.path))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(format!(
                "these files exist already: {} (use --force to overwrite)",
                existing.join(", ")
            ));
        }
    }
    for file in files {
        let path = dir.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, file.text).map_err(|e| format!("{}: {e}", path.display()))?;
        outln!("created {}", path.display())?;
    }
    outln!(
        "\nnext:\n  qualify check {0}\n  qualify test {0}",
        dir.display()
    )?;
    Ok(ExitCode::SUCCESS)
}
