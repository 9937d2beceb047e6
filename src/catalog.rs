//! The live message catalog: which version is in use, saving a new one, and moving enrolled clients onto
//! an edited schedule.
//!
//! `message_templates/` is imported as version 1 on the first start; after that the database holds the
//! live versions and the folder is only a starting point (`tether templates export/import` move versions
//! between the two, so a program can keep its texts under version control).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::tz::TimeZone;

use crate::scheduling::{Clock, QuietHours, Schedule};
use crate::storage::{Replan, Store, StoreError};
use crate::templates::{self, Catalog, CatalogError, CatalogFiles, Problem, Severity, SharedCatalog};

/// Enrolments moved onto a new schedule version per transaction.
const REPLAN_BATCH: i64 = 500;
/// How long checking an edited catalog may take. Every render is bounded by fuel already; this bounds the
/// rest (the files written to a scratch folder, the risk rules compiled) so an edit never holds a request.
const CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Invalid(#[from] CatalogError),
    /// Someone else saved a version since the one this edit started from.
    #[error("version {expected} is no longer the latest ({latest} is); reload and edit again")]
    Stale { expected: i64, latest: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The check of the edited files stopped without an answer (it panicked).
    #[error("checking the catalog failed: {0}")]
    Check(#[from] tokio::task::JoinError),
}

/// What a save did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Saved {
    pub version: i64,
    /// Schedules whose steps changed, and how many active enrolments were moved onto each.
    pub replanned: Vec<(String, usize)>,
}

/// Loads, saves and follows catalog versions. Cheap to clone.
#[derive(Clone, Debug)]
pub struct CatalogService {
    store: Store,
    live: SharedCatalog,
    clock: Clock,
    quiet_hours: QuietHours,
    /// The risk model of the templates folder (`risk/model.tsv`): generated data that ships with the release
    /// rather than a file admins edit, so it is read once here and set beside the rules of every version.
    risk_model: Option<Arc<crate::risk::Model>>,
}

impl CatalogService {
    /// At start-up: the newest version in the database, or `dir` imported as version 1 if there is none.
    /// Returns the service and any warnings about the catalog in use.
    pub async fn open(
        store: Store,
        dir: &Path,
        clock: Clock,
        quiet_hours: QuietHours,
    ) -> anyhow::Result<(Self, Vec<Problem>)> {
        let mut model_problems = Vec::new();
        let risk_model = crate::risk::read_model(&dir.join("risk"), &mut model_problems);
        model_problems.extend(crate::risk::missing_model(&dir.join("risk")));
        if let Some(error) = model_problems.iter().find(|p| p.severity == Severity::Error) {
            anyhow::bail!("the risk model does not load: {error}");
        }
        let (mut catalog, version, mut warnings) = match store.latest_catalog().await? {
            Some(stored) => {
                let (loaded, version) = match templates::load_files(&stored.files) {
                    Ok(loaded) => (loaded, stored.version),
                    Err(err) => Self::upgrade(&store, &stored, dir, clock.now()).await?.ok_or_else(|| {
                        anyhow::anyhow!(
                            "catalog version {} in the database does not load with this release; fix it with \
                             `tether templates import DIR`:\n{err}",
                            stored.version
                        )
                    })?,
                };
                if templates::files::read_dir(dir).is_ok_and(|on_disk| on_disk != stored.files) {
                    tracing::info!(
                        version,
                        folder = %dir.display(),
                        "the catalog in the database differs from the folder; the database wins (import the \
                         folder with `tether templates import` to use it)"
                    );
                }
                (loaded.catalog, version, loaded.warnings)
            }
            None => {
                let files = read_folder(dir)?;
                let loaded = templates::load_files(&files)?;
                let version = match store
                    .insert_catalog_version(
                        None,
                        &files,
                        "first start",
                        &format!("imported {}", dir.display()),
                        clock.now(),
                    )
                    .await
                {
                    Ok(version) => version,
                    // Another instance imported first; use what it stored.
                    Err(StoreError::Conflict(_)) => store.latest_catalog_version().await?.unwrap_or(1),
                    Err(err) => return Err(err.into()),
                };
                tracing::info!(version, folder = %dir.display(), "imported the message catalog");
                (loaded.catalog, version, loaded.warnings)
            }
        };
        catalog.risk = catalog.risk.with_model(risk_model.clone());
        warnings.extend(model_problems);
        let service = Self {
            store,
            live: SharedCatalog::new(catalog, version),
            clock,
            quiet_hours,
            risk_model,
        };
        Ok((service, warnings))
    }

    pub fn live(&self) -> &SharedCatalog {
        &self.live
    }

    /// The files of the version in use, with its number.
    pub async fn current_files(&self) -> Result<(i64, CatalogFiles), StoreError> {
        let stored = self.store.latest_catalog().await?;
        Ok(stored.map(|s| (s.version, s.files)).unwrap_or_default())
    }

    /// Checks `files` as a whole and saves them as the version after `based_on`; then puts it in use and
    /// moves active enrolments of every edited schedule onto it. Nothing is written unless all of it is valid.
    pub async fn save(&self, based_on: i64, files: &CatalogFiles, by: &str, summary: &str) -> Result<Saved, SaveError> {
        let mut loaded = check_off_runtime(files.clone()).await?;
        loaded.catalog.risk = loaded.catalog.risk.with_model(self.risk_model.clone());
        let previous = self.current_catalog_of(based_on).await?;
        let edited = edited_schedules(&previous, &loaded.catalog)?;
        check_schedules_in_use(&self.store, &loaded.catalog).await?;
        let version = match self
            .store
            .insert_catalog_version(Some(based_on), files, by, summary, self.clock.now())
            .await
        {
            Ok(version) => version,
            Err(StoreError::Conflict(_)) => {
                let latest = self.store.latest_catalog_version().await?.unwrap_or(based_on);
                return Err(SaveError::Stale {
                    expected: based_on,
                    latest,
                });
            }
            Err(err) => return Err(err.into()),
        };
        self.live.replace(loaded.catalog, version);
        let catalog = self.live.current();
        let mut replanned = Vec::new();
        for name in edited {
            if let Some(schedule) = catalog.schedule(&name) {
                replanned.push((name.clone(), self.replan(schedule).await?));
            }
        }
        tracing::info!(version, by, ?replanned, "saved a new catalog version");
        Ok(Saved { version, replanned })
    }

    /// The catalog of `version`, which must be the latest: an edit based on an older one would undo
    /// whatever was saved since.
    async fn current_catalog_of(&self, version: i64) -> Result<Arc<Catalog>, SaveError> {
        let latest = self.store.latest_catalog_version().await?.unwrap_or(0);
        if latest != version {
            return Err(SaveError::Stale {
                expected: version,
                latest,
            });
        }
        if self.live.version() != latest {
            self.refresh().await?;
        }
        Ok(self.live.current())
    }

    /// A stored version from before this release may lack files the release needs (a template for a new
    /// kind of text, say). Those are added from the folder: templates in the languages the stored program
    /// lists and the schedules it enrols in by default, so a language or schedule an admin removed stays
    /// removed, and nothing the stored version has is replaced, so admins' edits stay. If that makes it
    /// load, it is saved as the next version. `None` when the folder cannot fill the gap.
    async fn upgrade(
        store: &Store,
        stored: &crate::storage::CatalogVersion,
        dir: &Path,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Option<(templates::Loaded, i64)>> {
        let program = stored
            .files
            .get("program.toml")
            .and_then(|text| toml::from_str::<templates::Program>(text).ok());
        let (Some(program), Ok(shipped)) = (program, templates::files::read_dir(dir)) else {
            return Ok(None);
        };
        let mut files = stored.files.clone();
        let mut added = Vec::new();
        for (path, contents) in shipped {
            if !upgrade_may_add(&path, &program) {
                continue;
            }
            if let std::collections::btree_map::Entry::Vacant(missing) = files.entry(path) {
                added.push(missing.key().clone());
                missing.insert(contents);
            }
        }
        let Ok(loaded) = templates::load_files(&files) else {
            return Ok(None);
        };
        let summary = format!("added what this release needs: {}", added.join(", "));
        let version = match store
            .insert_catalog_version(Some(stored.version), &files, "upgrade", &summary, now)
            .await
        {
            Ok(version) => version,
            // Another instance saved a version first (its own upgrade, or an admin's edit): that one is used.
            Err(StoreError::Conflict(_)) => {
                let Some(latest) = store.latest_catalog().await? else {
                    return Ok(None);
                };
                return Ok(templates::load_files(&latest.files)
                    .ok()
                    .map(|loaded| (loaded, latest.version)));
            }
            Err(err) => return Err(err.into()),
        };
        tracing::info!(
            version,
            added = added.len(),
            "added the files this release needs to the message catalog"
        );
        Ok(Some((loaded, version)))
    }

    /// Moves every active enrolment in `schedule` onto its new version. Returns how many moved.
    async fn replan(&self, schedule: &Schedule) -> Result<usize, StoreError> {
        let mut after = 0;
        let mut moved = 0;
        loop {
            let batch = self
                .store
                .enrollments_to_replan(&schedule.name, after, REPLAN_BATCH)
                .await?;
            let Some(last) = batch.last() else {
                return Ok(moved);
            };
            after = last.id;
            let now = self.clock.now();
            let replans: Vec<Replan> = batch
                .iter()
                .map(|enrollment| {
                    let zone = TimeZone::get(&enrollment.timezone).unwrap_or(TimeZone::UTC);
                    let next = schedule
                        .resume_after_edit(
                            enrollment.discharged_at,
                            &zone,
                            &self.quiet_hours,
                            enrollment.starts_on_day,
                            now,
                            &enrollment.sent,
                        )
                        .map(|planned| (planned.index as i64, planned.send_at));
                    Replan {
                        enrollment_id: enrollment.id,
                        next,
                    }
                })
                .collect();
            self.store.replan_enrollments(schedule.version, &replans, now).await?;
            moved += replans.len();
        }
    }

    /// Puts a newer version saved by another instance in use. Returns whether it changed anything.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let latest = self.store.latest_catalog_version().await?;
        if latest.is_none_or(|latest| latest <= self.live.version()) {
            return Ok(false);
        }
        let Some(stored) = self.store.latest_catalog().await? else {
            return Ok(false);
        };
        match templates::load_files(&stored.files) {
            Ok(mut loaded) => {
                loaded.catalog.risk = loaded.catalog.risk.with_model(self.risk_model.clone());
                self.live.replace(loaded.catalog, stored.version);
                tracing::info!(version = stored.version, "now using a catalog version saved elsewhere");
                Ok(true)
            }
            // Saved versions were checked by the same loader; this only happens across releases.
            Err(err) => {
                tracing::error!(version = stored.version, error = %err, "a newer catalog version does not load; keeping the current one");
                Ok(false)
            }
        }
    }
}

/// Whether an upgrade may add the shipped file at `path` to a stored catalog whose program is `program`: a
/// template in one of its languages, or a schedule it enrols in by default.
fn upgrade_may_add(path: &str, program: &templates::Program) -> bool {
    if let Some(rest) = path.strip_prefix("sms/") {
        let language = rest.split('/').next().unwrap_or_default();
        return program.languages.iter().any(|l| l == language);
    }
    path.strip_prefix("schedules/")
        .and_then(|file| file.strip_suffix(".toml"))
        .is_some_and(|name| program.default_schedules.iter().any(|s| s == name))
}

/// Loads and checks `files` on a blocking thread: an admin's template runs the template engine, which must
/// not hold up the async runtime that answers `/healthz` and webhooks.
async fn check_off_runtime(files: CatalogFiles) -> Result<templates::Loaded, SaveError> {
    let check = tokio::task::spawn_blocking(move || templates::load_files(&files));
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(loaded) => Ok(loaded??),
        Err(_) => Err(SaveError::Invalid(CatalogError(vec![Problem {
            path: PathBuf::from("sms"),
            line: None,
            severity: Severity::Error,
            message: format!(
                "took more than {} s to check; simplify the templates",
                CHECK_TIMEOUT.as_secs()
            ),
        }]))),
    }
}

/// Reads the folder for the first import, naming it on failure.
pub fn read_folder(dir: &Path) -> Result<CatalogFiles, CatalogError> {
    templates::files::read_dir(dir).map_err(|err| {
        CatalogError(vec![Problem {
            path: PathBuf::from(dir),
            line: None,
            severity: Severity::Error,
            message: format!("cannot be read: {err}"),
        }])
    })
}

fn problem(path: String, message: String) -> CatalogError {
    CatalogError(vec![Problem {
        path: PathBuf::from(path),
        line: None,
        severity: Severity::Error,
        message,
    }])
}

/// Schedules whose steps changed. Each must carry a higher `version` than before: the version is part of
/// each planned text's key, and a program reading its own history needs to tell the two apart.
fn edited_schedules(previous: &Catalog, next: &Catalog) -> Result<BTreeSet<String>, CatalogError> {
    let mut edited = BTreeSet::new();
    for (name, schedule) in &next.schedules {
        let Some(before) = previous.schedule(name) else {
            continue;
        };
        if before.same_plan(schedule) {
            continue;
        }
        if schedule.version <= before.version {
            return Err(problem(
                format!("schedules/{name}.toml"),
                format!(
                    "the steps changed, so `version` must go above {} (it is {})",
                    before.version, schedule.version
                ),
            ));
        }
        edited.insert(name.clone());
    }
    Ok(edited)
}

/// Schedules active enrolments follow that `catalog` does not have.
pub async fn missing_schedules(store: &Store, catalog: &Catalog) -> Result<Vec<String>, StoreError> {
    Ok(store
        .schedules_in_use()
        .await?
        .into_iter()
        .filter(|name| catalog.schedule(name).is_none())
        .collect())
}

/// A schedule clients are still enrolled in cannot disappear: their next texts would have nowhere to come from.
async fn check_schedules_in_use(store: &Store, next: &Catalog) -> Result<(), SaveError> {
    if let Some(name) = missing_schedules(store, next).await?.first() {
        return Err(problem(
            format!("schedules/{name}.toml"),
            "is missing, but active enrollments follow it; discharge them or keep the schedule".into(),
        )
        .into());
    }
    Ok(())
}
