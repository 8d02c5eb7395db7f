//! Object storage for uploaded files, through `object_store`: a local directory by default, any
//! S3-compatible store in production. Writes stream in parts (never a whole file in memory);
//! reads stream, whole or by byte range.

use secrecy::ExposeSecret;
use std::ops::Range;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};

use crate::config::StorageSettings;
use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageKind {
    Local,
    S3,
}

impl StorageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageKind::Local => "local",
            StorageKind::S3 => "s3",
        }
    }
}

/// The configured store, shared by every request.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    kind: StorageKind,
    part_size: usize,
    concurrency: usize,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({}, part {} B)", self.kind.as_str(), self.part_size)
    }
}

impl Storage {
    pub fn from_settings(s: &StorageSettings) -> anyhow::Result<Self> {
        let (store, kind, part_size): (Arc<dyn ObjectStore>, _, _) = if let Some(bucket) = s.url.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            anyhow::ensure!(!bucket.is_empty(), "storage.url s3:// names no bucket");
            let mut b =
                AmazonS3Builder::new().with_bucket_name(bucket).with_region(&s.region).with_allow_http(s.allow_http);
            if !s.endpoint.is_empty() {
                b = b.with_endpoint(&s.endpoint);
            }
            if let Some(key) = &s.access_key_id {
                b = b.with_access_key_id(key.expose_secret());
            }
            if let Some(secret) = &s.secret_access_key {
                b = b.with_secret_access_key(secret.expose_secret());
            }
            (Arc::new(b.build()?), StorageKind::S3, s.s3_part_size_bytes)
        } else {
            let dir = s.url.strip_prefix("file://").unwrap_or(&s.url);
            anyhow::ensure!(!dir.is_empty(), "storage.url names no directory");
            std::fs::create_dir_all(dir)?;
            // Staged uploads live next to their object until completed; an aborted one is
            // removed with `abort`, and empty directories are pruned on delete.
            let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
            (Arc::new(fs), StorageKind::Local, s.local_chunk_bytes)
        };
        let store: Arc<dyn ObjectStore> = if s.prefix.trim_matches('/').is_empty() {
            store
        } else {
            Arc::new(PrefixStore::new(store, s.prefix.trim_matches('/')))
        };
        Ok(Self { store, kind, part_size, concurrency: s.upload_concurrency })
    }

    pub fn kind(&self) -> StorageKind {
        self.kind
    }

    pub fn part_size(&self) -> usize {
        self.part_size
    }

    fn path(key: &str) -> AppResult<Path> {
        Path::parse(key).map_err(|e| AppError::internal(anyhow::anyhow!("bad storage key {key:?}: {e}")))
    }

    /// Starts a streamed write of `key`; nothing is visible under `key` before `finish`.
    pub async fn writer(&self, key: &str) -> AppResult<Upload> {
        let upload = self.store.put_multipart(&Self::path(key)?).await.map_err(storage_error)?;
        Ok(Upload { inner: WriteMultipart::new_with_chunk_size(upload, self.part_size), concurrency: self.concurrency })
    }

    /// The object's bytes (all, or `range`) as a stream, with the range actually served.
    pub async fn read(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> AppResult<(Range<u64>, BoxStream<'static, std::io::Result<actix_web::web::Bytes>>)> {
        let opts = GetOptions { range: range.map(GetRange::Bounded), ..Default::default() };
        let got = self.store.get_opts(&Self::path(key)?, opts).await.map_err(storage_error)?;
        let served = got.range.clone();
        let stream = got.into_stream().map(|chunk| chunk.map_err(std::io::Error::other)).boxed();
        Ok((served, stream))
    }

    /// Removes the object; a missing one counts as removed (deletes are retried by jobs).
    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&Self::path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error(e)),
        }
    }

    /// Whether an object exists (tests and operators).
    pub async fn exists(&self, key: &str) -> AppResult<bool> {
        match self.store.head(&Self::path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(storage_error(e)),
        }
    }
}

fn storage_error(e: object_store::Error) -> AppError {
    AppError::internal(anyhow::anyhow!("object storage: {e}"))
}

/// A write in progress: parts go out as they fill, with at most `concurrency` in flight, so
/// memory stays near `concurrency × part size` whatever the file size.
pub struct Upload {
    inner: WriteMultipart,
    concurrency: usize,
}

impl Upload {
    pub async fn write(&mut self, bytes: &[u8]) -> AppResult<()> {
        self.inner.wait_for_capacity(self.concurrency).await.map_err(storage_error)?;
        self.inner.write(bytes);
        Ok(())
    }

    pub async fn finish(self) -> AppResult<()> {
        self.inner.finish().await.map_err(storage_error)?;
        Ok(())
    }

    /// Discards what was written (refused or failed uploads).
    pub async fn abort(self) {
        if let Err(e) = self.inner.abort().await {
            tracing::warn!(error = %e, "aborting a refused upload failed");
        }
    }
}
