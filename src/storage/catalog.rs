//! Versions of the message catalog (schedules and templates). Each save is a new row; nothing is edited in
//! place, so what any client was sent can be traced to the exact version that planned it.

use jiff::Timestamp;

use super::{Result, Store, StoreError, instant, unix};
use crate::templates::CatalogFiles;

#[derive(Debug, Clone)]
pub struct CatalogVersion {
    pub version: i64,
    pub files: CatalogFiles,
    pub created_at: Timestamp,
    pub created_by: String,
    pub summary: String,
}

/// A version without its files, for listings.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CatalogVersionSummary {
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub summary: String,
}

impl Store {
    /// The newest version, or `None` before the first start imported `message_templates/`.
    pub async fn latest_catalog(&self) -> Result<Option<CatalogVersion>> {
        let row: Option<(i64, String, i64, String, String)> = sqlx::query_as(
            "SELECT version, files, created_at, created_by, summary FROM catalog_versions \
             ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(version, files, created_at, created_by, summary)| {
            let files = serde_json::from_str(&files)
                .map_err(|err| StoreError::Corrupt(format!("catalog version {version}: {err}")))?;
            Ok(CatalogVersion {
                version,
                files,
                created_at: instant(created_at),
                created_by,
                summary,
            })
        })
        .transpose()
    }

    pub async fn latest_catalog_version(&self) -> Result<Option<i64>> {
        let version = sqlx::query_scalar("SELECT MAX(version) FROM catalog_versions")
            .fetch_one(&self.pool)
            .await?;
        Ok(version)
    }

    /// Saves `files` as the version after `previous` (`None` for the first). Two admins saving at once both
    /// read the same previous version; the second gets [`StoreError::Conflict`] instead of silently
    /// overwriting the first.
    pub async fn insert_catalog_version(
        &self,
        previous: Option<i64>,
        files: &CatalogFiles,
        created_by: &str,
        summary: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let version = previous.unwrap_or(0) + 1;
        let files = serde_json::to_string(files).map_err(|err| StoreError::Corrupt(err.to_string()))?;
        sqlx::query(
            "INSERT INTO catalog_versions (version, files, created_at, created_by, summary) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(version)
        .bind(files)
        .bind(unix(now))
        .bind(created_by)
        .bind(summary)
        .execute(&self.writer)
        .await?;
        Ok(version)
    }

    pub async fn catalog_versions(&self) -> Result<Vec<CatalogVersionSummary>> {
        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT version, created_at, created_by, summary FROM catalog_versions ORDER BY version DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, created_at, created_by, summary)| CatalogVersionSummary {
                version,
                created_at: instant(created_at).to_string(),
                created_by,
                summary,
            })
            .collect())
    }
}
