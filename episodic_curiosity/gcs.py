"""gs:// urls and buckets: what both the cloud side (launch/) and the readers of results
(analysis/) need, so analysis/ never reaches up into launch/.

Imports google.cloud.storage (about a second): import this module only for a gs:// source.
"""

import google.auth.exceptions
from google.api_core import exceptions
from google.cloud import storage

from episodic_curiosity.errors import UsageError


def split_gs_url(url: str):
    """'gs://bucket/a/b' -> ('bucket', 'a/b')."""
    if not url.startswith("gs://") or len(url) <= 5:
        raise UsageError(f"'{url}' is not a gs://BUCKET/PATH url")
    bucket, _, prefix = url[5:].partition("/")
    return bucket, prefix.strip("/")


def default_client(url: str) -> storage.Client:
    """A client from the environment's credentials (or STORAGE_EMULATOR_HOST), or one line
    saying how to get credentials to read `url`."""
    try:
        return storage.Client()
    except google.auth.exceptions.DefaultCredentialsError as e:
        raise UsageError(f"no Google Cloud credentials to read {url}; run 'gcloud auth "
                         "application-default login' (or copy the bucket locally)") from e


def get_bucket(client: storage.Client, name: str) -> storage.Bucket:
    """The bucket, or one clear line when it does not exist."""
    try:
        return client.get_bucket(name)
    except exceptions.NotFound as e:
        raise UsageError(f"bucket gs://{name} does not exist; create it with "
                         f"'gcloud storage buckets create gs://{name}' or pass another "
                         "--bucket") from e


def list_blobs(url: str, client: storage.Client | None = None):
    """Every object below gs://bucket/prefix (the prefix as a directory: gs://b/run does not
    list gs://b/run_2); `client` defaults to the environment's."""
    bucket_name, prefix = split_gs_url(url)
    client = client or default_client(url)
    bucket = get_bucket(client, bucket_name)
    return client.list_blobs(bucket, prefix=f"{prefix}/" if prefix else None)
