//! Where the bucket is and how the store uses it.

use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::{BackoffConfig, ClientConfigKey, RetryConfig};

/// An [`S3Store`](crate::S3Store)'s configuration. What is not set here
/// comes from the usual `AWS_*` environment variables: `AWS_ENDPOINT_URL`,
/// `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`, `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The bucket.
    pub bucket: String,
    /// Keys start with this (a folder in the bucket; empty: none).
    pub prefix: String,
    /// The service's URL (`http://127.0.0.1:3900` for a local Garage);
    /// none: `AWS_ENDPOINT_URL`, else AWS itself.
    pub endpoint: Option<String>,
    /// The region (Garage's default is `garage`); none: `AWS_REGION`.
    pub region: Option<String>,
    /// Bucket in the host name (`BUCKET.s3.…`) instead of the path; none:
    /// `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`, else path style.
    pub virtual_hosted: Option<bool>,
    /// Bytes of each part of a multipart upload, and the size up to which
    /// an object goes up in one PUT instead. At least 5 MiB (S3's least
    /// part but the last). A put holds up to two parts.
    pub part_size: usize,
    /// Bytes of each ranged GET. A get holds at most one piece the gateway
    /// asked for; the range only bounds how far one request reaches.
    pub range_size: usize,
    /// The most one call to the service may take, retries included; past
    /// it the request fails with `unavailable`.
    pub timeout: Duration,
}

/// S3's smallest part (but the last) of a multipart upload.
pub const MIN_PART_SIZE: usize = 5 << 20;

impl S3Config {
    /// The defaults for `bucket`: no prefix, everything else from the
    /// environment, 8 MiB parts and ranges, 30 s per call.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            prefix: String::new(),
            endpoint: None,
            region: None,
            virtual_hosted: None,
            part_size: 8 << 20,
            range_size: 8 << 20,
            timeout: Duration::from_secs(30),
        }
    }

    /// Reads `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    ///
    /// # Errors
    /// `url` is not of that form.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("expected s3://BUCKET[/PREFIX], got {url:.80}"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("s3:// needs a bucket name".to_owned());
        }
        let mut config = Self::new(bucket);
        config.prefix = prefix.trim_matches('/').to_owned();
        Ok(config)
    }

    /// The object_store client this configuration describes.
    pub(crate) fn build(&self) -> object_store::Result<AmazonS3> {
        if self.part_size < MIN_PART_SIZE {
            return Err(object_store::Error::Generic {
                store: "S3",
                source: format!("part_size must be at least {MIN_PART_SIZE} bytes").into(),
            });
        }
        // reqwest's rustls takes the process's default crypto provider (it
        // panics without one); the rest of the node uses ring too. Set only
        // if none is yet.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&self.bucket);
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if let Some(virtual_hosted) = self.virtual_hosted {
            builder = builder.with_virtual_hosted_style_request(virtual_hosted);
        }
        // Set key by key: `with_client_options` would replace what the
        // environment set (AWS_ALLOW_HTTP among it). An attempt may take
        // half the timeout and retries stop inside it, so a dead service
        // costs a request `timeout`, not minutes.
        let attempt = self.timeout / 2;
        let connect = Duration::from_secs(5).min(attempt);
        let ms = |d: Duration| format!("{}ms", d.as_millis().max(1));
        builder
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                ms(attempt),
            )
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                ms(connect),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: self.timeout,
            })
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        let c = S3Config::from_url("s3://objects").expect("bucket");
        assert_eq!((c.bucket.as_str(), c.prefix.as_str()), ("objects", ""));
        let c = S3Config::from_url("s3://objects/oap/b3/").expect("prefix");
        assert_eq!(
            (c.bucket.as_str(), c.prefix.as_str()),
            ("objects", "oap/b3")
        );
        assert!(S3Config::from_url("s3://").is_err());
        assert!(S3Config::from_url("dir:/tmp").is_err());
    }

    #[test]
    fn parts_below_s3s_least_are_refused() {
        let mut c = S3Config::new("b");
        c.region = Some("garage".into());
        c.endpoint = Some("http://127.0.0.1:1".into());
        c.part_size = MIN_PART_SIZE - 1;
        assert!(c.build().is_err());
        c.part_size = MIN_PART_SIZE;
        assert!(c.build().is_ok());
    }
}
