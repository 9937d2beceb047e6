//! The catalog as a set of files: what `message_templates/` holds on disk and what each version in the
//! database holds. Database versions are checked by the same loader as the folder, by writing them to a
//! scratch folder first: one set of checks and one set of error messages (with file and line) for both.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{CatalogError, Loaded, Problem, Severity, load};

/// Relative path with `/` separators (`sms/en/caring/first.txt`) → contents.
pub type CatalogFiles = BTreeMap<String, String>;

/// Only these belong to the catalog; a README or an editor's backup file beside them does not.
fn is_catalog_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "toml" || ext == "txt")
}

/// Reads every catalog file under `dir`.
pub fn read_dir(dir: &Path) -> io::Result<CatalogFiles> {
    let mut files = CatalogFiles::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_catalog_file(&path) {
                files.insert(relative_name(dir, &path), fs::read_to_string(&path)?);
            }
        }
    }
    Ok(files)
}

fn relative_name(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Writes `files` under `dir`, creating folders as needed. Refuses names that would escape `dir`.
pub fn write_dir(dir: &Path, files: &CatalogFiles) -> io::Result<()> {
    for (name, contents) in files {
        let path = safe_join(dir, name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("unsafe file name `{name}`")))?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, contents)?;
    }
    Ok(())
}

/// `dir/name` when `name` is a plain relative path of catalog files; `None` for `..`, absolute paths and
/// anything else that could write outside `dir`.
fn safe_join(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut path = dir.to_owned();
    for part in name.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') || part.contains(':') {
            return None;
        }
        path.push(part);
    }
    is_catalog_file(&path).then_some(path)
}

/// Loads and checks a catalog held in memory. Problems name files relative to the catalog's root, as a
/// program's own repository would.
pub fn load_files(files: &CatalogFiles) -> Result<Loaded, CatalogError> {
    let scratch = tempfile::tempdir().map_err(|err| scratch_error(&err))?;
    write_dir(scratch.path(), files).map_err(|err| scratch_error(&err))?;
    let relative = |mut problem: Problem| {
        if let Ok(inside) = problem.path.strip_prefix(scratch.path()) {
            problem.path = inside.to_owned();
        }
        problem
    };
    match load(scratch.path()) {
        Ok(mut loaded) => {
            loaded.warnings = loaded.warnings.into_iter().map(relative).collect();
            Ok(loaded)
        }
        Err(CatalogError(problems)) => Err(CatalogError(problems.into_iter().map(relative).collect())),
    }
}

fn scratch_error(err: &io::Error) -> CatalogError {
    CatalogError(vec![Problem {
        path: PathBuf::from("."),
        line: None,
        severity: Severity::Error,
        message: format!("cannot write a scratch copy to check: {err}"),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_the_folder_are_refused() {
        let dir = Path::new("/srv/catalog");
        assert_eq!(
            safe_join(dir, "sms/en/caring/first.txt"),
            Some(PathBuf::from("/srv/catalog/sms/en/caring/first.txt"))
        );
        for bad in [
            "../etc/passwd.txt",
            "/etc/x.toml",
            "sms//x.txt",
            "a\\..\\b.txt",
            "program.sh",
            "c:x.txt",
        ] {
            assert_eq!(safe_join(dir, bad), None, "{bad}");
        }
    }

    #[test]
    fn the_shipped_catalog_round_trips_through_files() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("message_templates");
        let files = read_dir(&shipped).unwrap();
        assert!(files.contains_key("program.toml") && files.contains_key("schedules/caring_contacts.toml"));
        let loaded = load_files(&files).unwrap();
        assert!(loaded.catalog.schedule("caring_contacts").is_some());

        let mut broken = files.clone();
        broken.insert("sms/en/caring/first.txt".into(), "Hi {{ nickname }}".into());
        let problems = load_files(&broken).unwrap_err().0;
        assert!(
            problems
                .iter()
                .any(|p| p.path == Path::new("sms/en/caring/first.txt") && p.message.contains("nickname")),
            "{problems:?}"
        );
    }

    #[test]
    fn two_steps_on_one_day_need_fixed_times_in_order() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("message_templates");
        let files = read_dir(&shipped).unwrap();
        let bridge = &files["schedules/bridge.toml"];
        assert!(
            load_files(&files)
                .unwrap()
                .catalog
                .schedule("bridge")
                .unwrap()
                .sends_several_a_day()
        );
        for (broken, complaint) in [
            (
                bridge.replacen(
                    "at = \"18:00\"\ntemplate = \"bridge/evening\"",
                    "template = \"bridge/evening\"",
                    1,
                ),
                "later `at`",
            ),
            (
                bridge.replacen(
                    "at = \"18:00\"\ntemplate = \"bridge/evening\"",
                    "at = \"09:00\"\ntemplate = \"bridge/evening\"",
                    1,
                ),
                "later `at`",
            ),
            (bridge.replacen("at = \"10:00\"", "at = \"25:00\"", 1), "at: `25:00`"),
            (
                bridge.replacen("replaces_through_day = 3", "replaces_through_day = 99", 1),
                "between 0 and 30",
            ),
        ] {
            assert_ne!(&broken, bridge, "the edit applies");
            let mut edited = files.clone();
            edited.insert("schedules/bridge.toml".into(), broken);
            let problems = load_files(&edited).unwrap_err().0;
            assert!(
                problems.iter().any(|p| p.message.contains(complaint)),
                "{complaint}: {problems:?}"
            );
        }
        let mut no_default = files.clone();
        no_default.insert(
            "program.toml".into(),
            files["program.toml"].replace(
                "default_schedules = [\"caring_contacts\"]",
                "default_schedules = [\"nightly\"]",
            ),
        );
        let problems = load_files(&no_default).unwrap_err().0;
        assert!(problems.iter().any(|p| p.message.contains("`nightly`")), "{problems:?}");
    }
}
