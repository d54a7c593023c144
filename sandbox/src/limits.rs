//! What one job may ask of the sandbox: server policy, not protocol (the
//! core validates what the protocol says). Each bound stops one way a single
//! submission could make the sandbox do unbounded work: a poison job (tens of
//! thousands of headers), an amplifier (thousands of webhooks or regions), a
//! customer holding job slots with billions of retries.

use ezthrottle_core::Job;

/// The bounds; `serve` takes each as a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Request headers of one job (or of one fallback or follow-up).
    pub max_headers: usize,
    /// Webhooks of one job.
    pub max_webhooks: usize,
    /// `retry_policy.max_retries` and `max_reroutes`.
    pub max_retries: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_headers: 100,
            max_webhooks: 32,
            max_retries: 20,
        }
    }
}

impl Limits {
    /// Check `job` and every job nested in it; `regions` are the lanes that
    /// exist (a job naming another is refused, not run on a made-up lane).
    /// The error names the field, as the core's validation does.
    pub fn check(&self, job: &Job, regions: &[String]) -> Result<(), String> {
        self.check_at(job, regions, "")
    }

    fn check_at(&self, job: &Job, regions: &[String], at: &str) -> Result<(), String> {
        let field = |name: &str| format!("{at}{name}");
        if job.headers.0.len() > self.max_headers {
            return Err(format!(
                "{}: {} headers, more than this sandbox's limit of {}",
                field("headers"),
                job.headers.0.len(),
                self.max_headers
            ));
        }
        if job.webhooks.len() > self.max_webhooks {
            return Err(format!(
                "{}: {} webhooks, more than this sandbox's limit of {}",
                field("webhooks"),
                job.webhooks.len(),
                self.max_webhooks
            ));
        }
        let mut named = job
            .regions
            .iter()
            .chain(job.webhooks.iter().flat_map(|w| w.regions.iter().flatten()));
        if let Some(unknown) = named.find(|r| !regions.contains(r)) {
            return Err(format!(
                "{}: {unknown:?} is not a region of this sandbox ({})",
                field("regions"),
                regions.join(", ")
            ));
        }
        if let Some(policy) = &job.retry_policy {
            for (name, value) in [
                ("retry_policy.max_retries", policy.max_retries),
                ("retry_policy.max_reroutes", policy.max_reroutes),
            ] {
                if value.is_some_and(|n| n > self.max_retries) {
                    return Err(format!(
                        "{}: more than this sandbox's limit of {}",
                        field(name),
                        self.max_retries
                    ));
                }
            }
        }
        for (name, nested) in [
            ("fallback_job", &job.fallback_job),
            ("on_success", &job.on_success),
            ("on_failure", &job.on_failure),
        ] {
            if let Some(nested) = nested {
                self.check_at(nested, regions, &format!("{at}{name}."))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<String> {
        vec!["iad".into(), "lax".into()]
    }

    #[test]
    fn each_bound_names_its_field_nested_too() {
        let limits = Limits::default();
        let mut job = Job::new("https://a.example");
        assert_eq!(limits.check(&job, &regions()), Ok(()));
        let mut child = Job::new("https://b.example");
        child.headers.0 = (0..101).map(|i| (format!("X-{i}"), "v".into())).collect();
        job.on_success = Some(Box::new(child));
        let err = limits.check(&job, &regions()).unwrap_err();
        assert!(err.starts_with("on_success.headers: 101 headers"), "{err}");

        let mut job = Job::new("https://a.example");
        job.regions = vec!["iad".into(), "mars".into()];
        let err = limits.check(&job, &regions()).unwrap_err();
        assert!(err.starts_with("regions: \"mars\""), "{err}");

        let mut job = Job::new("https://a.example");
        job.retry_policy = Some(ezthrottle_core::RetryPolicy {
            max_retries: Some(4_294_967_295),
            ..Default::default()
        });
        let err = limits.check(&job, &regions()).unwrap_err();
        assert!(err.starts_with("retry_policy.max_retries"), "{err}");

        let mut job = Job::new("https://a.example");
        job.webhooks = (0..33)
            .map(|i| ezthrottle_core::Webhook::new(format!("https://h{i}.example")))
            .collect();
        let err = limits.check(&job, &regions()).unwrap_err();
        assert!(err.starts_with("webhooks: 33 webhooks"), "{err}");
    }
}
