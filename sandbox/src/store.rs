//! All state in SQLite (WAL): jobs, attempts, deliveries, secrets. One
//! connection behind a mutex: SQLite has one writer anyway, and holding the
//! lock for a whole check-and-insert makes idempotency atomic.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: String,
    pub customer: String,
    pub payload: String,
    pub idempotent_key: String,
    pub state: String,
    pub run_at_ms: i64,
}

/// One pending or finished webhook delivery.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub job_id: String,
    pub customer: String,
    pub url: String,
    pub attempts: i64,
}

/// A job to create as a child of a finished one.
#[derive(Debug, Clone)]
pub struct NewChild {
    pub id: String,
    pub relation: &'static str,
    pub payload: String,
    pub idempotent_key: String,
    pub run_at_ms: i64,
}

/// What finishing a job created.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    /// The ids of the deliveries to make.
    pub deliveries: Vec<i64>,
    /// The (id, run_at) of the child jobs to run.
    pub children: Vec<(String, i64)>,
}

/// What a submission did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// A new job with this id.
    New(String),
    /// The key was seen before: the original job's id.
    Duplicate(String),
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    customer TEXT NOT NULL,
    parent_id TEXT REFERENCES jobs(id),
    relation TEXT,
    payload TEXT NOT NULL,
    idempotent_key TEXT NOT NULL,
    state TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    result TEXT,
    warnings TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_key ON jobs(customer, idempotent_key);
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs(state) WHERE state IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    path TEXT NOT NULL,
    region TEXT NOT NULL,
    url TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_job ON attempts(job_id);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES jobs(id),
    url TEXT NOT NULL,
    has_quorum_vote INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_by_job ON deliveries(job_id);
CREATE TABLE IF NOT EXISTS secrets (
    customer TEXT PRIMARY KEY,
    primary_secret TEXT NOT NULL,
    secondary_secret TEXT
);
";

type Result<T> = std::result::Result<T, rusqlite::Error>;

/// Create `path` (or tighten it) with mode 0600 before SQLite opens it.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl Store {
    /// Open (or create) the database at `path`; `None` keeps it in memory.
    /// The file is readable by its owner only (it holds the webhook
    /// secrets); SQLite gives its `-wal` and `-shm` files the same mode.
    pub fn open(path: Option<&Path>) -> Result<Self> {
        let conn = match path {
            Some(path) => {
                owner_only(path)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
                Connection::open(path)?
            }
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        // Databases made before jobs had warnings.
        let has_warnings = conn
            .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'warnings'")?
            .exists([])?;
        if !has_warnings {
            conn.execute_batch("ALTER TABLE jobs ADD COLUMN warnings TEXT;")?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Sync every commit to disk (`PRAGMA synchronous = FULL`): an
    /// acknowledged job then survives a power loss, at the cost of an fsync
    /// per write. The default (`NORMAL`, with WAL) survives a process crash.
    pub fn sync_full(self) -> Result<Self> {
        self.lock().execute_batch("PRAGMA synchronous = FULL;")?;
        Ok(self)
    }

    /// SQLite's `synchronous` setting (1 NORMAL, 2 FULL).
    pub fn synchronous(&self) -> Result<i64> {
        self.lock()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent
        // (transactions roll back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Insert a job unless (customer, key) exists; atomic.
    pub fn insert_job(&self, row: &JobRow, now_ms: i64) -> Result<Inserted> {
        let conn = self.lock();
        let changed = conn.execute(
            "INSERT INTO jobs (id, customer, payload, idempotent_key, state, run_at, created_at)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6)
             ON CONFLICT (customer, idempotent_key) DO NOTHING",
            params![
                row.id,
                row.customer,
                row.payload,
                row.idempotent_key,
                row.run_at_ms,
                now_ms
            ],
        )?;
        if changed == 1 {
            return Ok(Inserted::New(row.id.clone()));
        }
        let existing: String = conn.query_row(
            "SELECT id FROM jobs WHERE customer = ?1 AND idempotent_key = ?2",
            params![row.customer, row.idempotent_key],
            |r| r.get(0),
        )?;
        Ok(Inserted::Duplicate(existing))
    }

    /// Record what was ignored when the job was accepted (unknown fields).
    pub fn set_warnings(&self, job_id: &str, warnings: &[String]) -> Result<()> {
        self.lock().execute(
            "UPDATE jobs SET warnings = ?2 WHERE id = ?1",
            params![job_id, serde_json::to_string(warnings).unwrap_or_default()],
        )?;
        Ok(())
    }

    /// Jobs not finished yet (queued, or running when the process died).
    pub fn unfinished_jobs(&self) -> Result<Vec<JobRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT id, customer, payload, idempotent_key, state, run_at FROM jobs
             WHERE state IN ('queued', 'running') ORDER BY created_at",
        )?;
        let rows = stmt.query_map([], job_row)?;
        rows.collect()
    }

    /// Mark a job running.
    pub fn mark_running(&self, job_id: &str) -> Result<()> {
        self.lock().execute(
            "UPDATE jobs SET state = 'running' WHERE id = ?1 AND state = 'queued'",
            params![job_id],
        )?;
        Ok(())
    }

    /// Record one upstream attempt.
    #[allow(clippy::too_many_arguments)]
    pub fn record_attempt(
        &self,
        job_id: &str,
        path: &str,
        region: &str,
        url: &str,
        status_code: Option<u16>,
        error: Option<&str>,
        started_at_ms: i64,
        duration_ms: i64,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO attempts (job_id, path, region, url, status_code, error, started_at, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![job_id, path, region, url, status_code, error, started_at_ms, duration_ms],
        )?;
        Ok(())
    }

    /// Finish a job: its result, its deliveries and its children, in one
    /// transaction, so a crash never leaves a finished job without them.
    /// Returns the ids of the new deliveries and the (id, run_at) of the
    /// children created.
    pub fn finish_job(
        &self,
        job_id: &str,
        succeeded: bool,
        result: &Value,
        webhooks: &[(String, bool)],
        children: &[NewChild],
        now_ms: i64,
    ) -> Result<Finished> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let customer: String = tx.query_row(
            "SELECT customer FROM jobs WHERE id = ?1",
            params![job_id],
            |r| r.get(0),
        )?;
        let state = if succeeded { "succeeded" } else { "failed" };
        tx.execute(
            "UPDATE jobs SET state = ?2, result = ?3, finished_at = ?4 WHERE id = ?1",
            params![job_id, state, result.to_string(), now_ms],
        )?;
        let mut deliveries = Vec::with_capacity(webhooks.len());
        for (url, votes) in webhooks {
            tx.execute(
                "INSERT INTO deliveries (job_id, url, has_quorum_vote, state) VALUES (?1, ?2, ?3, 'pending')",
                params![job_id, url, votes],
            )?;
            deliveries.push(tx.last_insert_rowid());
        }
        let mut created = Vec::new();
        for child in children {
            let changed = tx.execute(
                "INSERT INTO jobs (id, customer, parent_id, relation, payload, idempotent_key, state, run_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8)
                 ON CONFLICT (customer, idempotent_key) DO NOTHING",
                params![child.id, customer, job_id, child.relation, child.payload, child.idempotent_key, child.run_at_ms, now_ms],
            )?;
            if changed == 1 {
                created.push((child.id.clone(), child.run_at_ms));
            }
        }
        tx.commit()?;
        Ok(Finished {
            deliveries,
            children: created,
        })
    }

    /// A job by id.
    pub fn job(&self, job_id: &str) -> Result<Option<JobRow>> {
        self.lock()
            .query_row(
                "SELECT id, customer, payload, idempotent_key, state, run_at FROM jobs WHERE id = ?1",
                params![job_id],
                job_row,
            )
            .optional()
    }

    /// Deliveries not finished yet.
    pub fn pending_deliveries(&self) -> Result<Vec<DeliveryRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT d.id, d.job_id, j.customer, d.url, d.attempts FROM deliveries d
             JOIN jobs j ON j.id = d.job_id WHERE d.state = 'pending' ORDER BY d.id",
        )?;
        let rows = stmt.query_map([], delivery_row)?;
        rows.collect()
    }

    /// One delivery by id.
    pub fn delivery(&self, id: i64) -> Result<Option<DeliveryRow>> {
        self.lock()
            .query_row(
                "SELECT d.id, d.job_id, j.customer, d.url, d.attempts FROM deliveries d
                 JOIN jobs j ON j.id = d.job_id WHERE d.id = ?1",
                params![id],
                delivery_row,
            )
            .optional()
    }

    /// Record a delivery attempt; `final_state` is `delivered`, `failed` or
    /// `pending` (will be retried).
    pub fn record_delivery(
        &self,
        id: i64,
        final_state: &str,
        status: Option<u16>,
        error: Option<&str>,
    ) -> Result<()> {
        self.lock().execute(
            "UPDATE deliveries SET state = ?2, attempts = attempts + 1, last_status = ?3, last_error = ?4 WHERE id = ?1",
            params![id, final_state, status, error],
        )?;
        Ok(())
    }

    /// The stored result of a job (the JSON its webhooks carry).
    pub fn job_result(&self, job_id: &str) -> Result<Option<Value>> {
        let text: Option<String> = self
            .lock()
            .query_row(
                "SELECT result FROM jobs WHERE id = ?1",
                params![job_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Everything known of a job, for `GET /api/v1/jobs/{id}`.
    pub fn job_report(&self, job_id: &str, customer: &str) -> Result<Option<Value>> {
        let conn = self.lock();
        let head = conn
            .query_row(
                "SELECT id, state, parent_id, relation, payload, idempotent_key, created_at, finished_at, result, warnings
                 FROM jobs WHERE id = ?1 AND customer = ?2",
                params![job_id, customer],
                |r| {
                    Ok(json!({
                        "job_id": r.get::<_, String>(0)?,
                        "state": r.get::<_, String>(1)?,
                        "parent_id": r.get::<_, Option<String>>(2)?,
                        "relation": r.get::<_, Option<String>>(3)?,
                        "job": serde_json::from_str::<Value>(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
                        "idempotent_key": r.get::<_, String>(5)?,
                        "created_at": r.get::<_, i64>(6)?,
                        "finished_at": r.get::<_, Option<i64>>(7)?,
                        "result": r.get::<_, Option<String>>(8)?
                            .and_then(|t| serde_json::from_str::<Value>(&t).ok()),
                        "warnings": r.get::<_, Option<String>>(9)?
                            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                            .unwrap_or_else(|| json!([])),
                    }))
                },
            )
            .optional()?;
        let Some(mut report) = head else {
            return Ok(None);
        };
        let mut stmt = conn.prepare(
            "SELECT path, region, url, status_code, error, started_at, duration_ms FROM attempts WHERE job_id = ?1 ORDER BY id",
        )?;
        let attempts: Vec<Value> = stmt
            .query_map(params![job_id], |r| {
                Ok(json!({
                    "path": r.get::<_, String>(0)?, "region": r.get::<_, String>(1)?,
                    "url": r.get::<_, String>(2)?, "status_code": r.get::<_, Option<u16>>(3)?,
                    "error": r.get::<_, Option<String>>(4)?, "started_at": r.get::<_, i64>(5)?,
                    "duration_ms": r.get::<_, i64>(6)?,
                }))
            })?
            .collect::<Result<_>>()?;
        let mut stmt = conn.prepare(
            "SELECT url, has_quorum_vote, state, attempts, last_status, last_error FROM deliveries WHERE job_id = ?1 ORDER BY id",
        )?;
        let deliveries: Vec<Value> = stmt
            .query_map(params![job_id], |r| {
                Ok(json!({
                    "url": r.get::<_, String>(0)?, "has_quorum_vote": r.get::<_, bool>(1)?,
                    "state": r.get::<_, String>(2)?, "attempts": r.get::<_, i64>(3)?,
                    "last_status": r.get::<_, Option<u16>>(4)?, "last_error": r.get::<_, Option<String>>(5)?,
                }))
            })?
            .collect::<Result<_>>()?;
        let mut stmt = conn.prepare(
            "SELECT id, relation, state FROM jobs WHERE parent_id = ?1 ORDER BY created_at",
        )?;
        let children: Vec<Value> = stmt
            .query_map(params![job_id], |r| {
                Ok(json!({"job_id": r.get::<_, String>(0)?, "relation": r.get::<_, String>(1)?, "state": r.get::<_, String>(2)?}))
            })?
            .collect::<Result<_>>()?;
        let quorum = report["job"]["webhook_quorum"].as_u64().unwrap_or(1) as usize;
        let voting = deliveries.iter().filter(|d| d["has_quorum_vote"] == true);
        let delivered = voting.clone().filter(|d| d["state"] == "delivered").count();
        let quorum_met = if voting.clone().count() == 0 {
            Value::Null
        } else {
            json!(delivered >= quorum)
        };
        report["attempts"] = attempts.into();
        report["deliveries"] = deliveries.into();
        report["children"] = children.into();
        report["quorum_met"] = quorum_met;
        Ok(Some(report))
    }

    /// Create or replace a customer's secrets.
    pub fn set_secrets(
        &self,
        customer: &str,
        primary: &str,
        secondary: Option<&str>,
    ) -> Result<()> {
        self.lock().execute(
            "INSERT INTO secrets (customer, primary_secret, secondary_secret) VALUES (?1, ?2, ?3)
             ON CONFLICT (customer) DO UPDATE SET primary_secret = ?2, secondary_secret = ?3",
            params![customer, primary, secondary],
        )?;
        Ok(())
    }

    /// A customer's (primary, secondary) secrets.
    pub fn secrets(&self, customer: &str) -> Result<Option<(String, Option<String>)>> {
        self.lock()
            .query_row(
                "SELECT primary_secret, secondary_secret FROM secrets WHERE customer = ?1",
                params![customer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
    }

    /// Remove a customer's secrets; whether there were any.
    pub fn delete_secrets(&self, customer: &str) -> Result<bool> {
        Ok(self
            .lock()
            .execute("DELETE FROM secrets WHERE customer = ?1", params![customer])?
            > 0)
    }
}

fn job_row(r: &rusqlite::Row<'_>) -> Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        customer: r.get(1)?,
        payload: r.get(2)?,
        idempotent_key: r.get(3)?,
        state: r.get(4)?,
        run_at_ms: r.get(5)?,
    })
}

fn delivery_row(r: &rusqlite::Row<'_>) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        job_id: r.get(1)?,
        customer: r.get(2)?,
        url: r.get(3)?,
        attempts: r.get(4)?,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// The database and SQLite's -wal / -shm files hold the webhook secrets:
    /// owner-only, whatever the umask.
    #[test]
    fn database_files_are_owner_only() {
        let dir = std::env::temp_dir().join(format!("ezt-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sandbox.db");
        let store = Store::open(Some(&path)).unwrap();
        store
            .set_secrets("cust_1", "whsec_primary_0123456789", None)
            .unwrap();
        for file in ["sandbox.db", "sandbox.db-wal", "sandbox.db-shm"] {
            let mode = std::fs::metadata(dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
        }
        assert_eq!(store.synchronous().unwrap(), 1, "NORMAL by default");
        let store = store.sync_full().unwrap();
        assert_eq!(store.synchronous().unwrap(), 2, "FULL with --sync full");
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
