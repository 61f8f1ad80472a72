//! Framing and connecting: length-delimited JSON over a Unix socket.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tarpc::serde_transport::Transport;
use tarpc::tokio_serde::formats::Json;
use tarpc::tokio_util::codec::Decoder as _;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;
use tokio::net::UnixStream;

use crate::{API_VERSION, ControlClient, MAX_FRAME_BYTES};

/// A JSON transport over `stream` that refuses frames over [`MAX_FRAME_BYTES`].
pub fn framed<Item, SinkItem>(
    stream: UnixStream,
) -> Transport<UnixStream, Item, SinkItem, Json<Item, SinkItem>>
where
    Item: DeserializeOwned,
    SinkItem: Serialize,
{
    tarpc::serde_transport::new(codec().framed(stream), Json::default())
}

/// The frame codec both ends use: a 4-byte big-endian length, then that
/// many bytes of JSON; a frame over [`MAX_FRAME_BYTES`] is an error.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME_BYTES)
        .new_codec()
}

/// Why a client could not talk to the daemon. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no berthd control socket at {0}: is the daemon running? (start it with `systemctl start berthd`, or point BERTH_SOCKET/--socket at its socket)"
    )]
    NotRunning(PathBuf),
    #[error(
        "permission denied on {0}: join the `berth` group to read (`usermod -aG berth $USER`, then log in again), or run as root"
    )]
    PermissionDenied(PathBuf),
    #[error("cannot connect to {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "berthd at {path} speaks control API version {daemon}, this client speaks {client}: use the `berth` that came with the daemon"
    )]
    VersionMismatch {
        path: PathBuf,
        daemon: u32,
        client: u32,
    },
    #[error("berthd at {path} did not answer: {source}")]
    Rpc {
        path: PathBuf,
        #[source]
        source: tarpc::client::RpcError,
    },
}

/// Connects to the daemon at `path` and checks the API version. Must be
/// called inside a tokio runtime.
pub async fn connect(path: &Path) -> Result<ControlClient, ConnectError> {
    let stream = UnixStream::connect(path)
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                ConnectError::NotRunning(path.to_path_buf())
            }
            io::ErrorKind::PermissionDenied => ConnectError::PermissionDenied(path.to_path_buf()),
            _ => ConnectError::Io {
                path: path.to_path_buf(),
                source: e,
            },
        })?;
    let client = ControlClient::new(tarpc::client::Config::default(), framed(stream)).spawn();
    let daemon = client
        .api_version(tarpc::context::current())
        .await
        .map_err(|source| ConnectError::Rpc {
            path: path.to_path_buf(),
            source,
        })?;
    if daemon != API_VERSION {
        return Err(ConnectError::VersionMismatch {
            path: path.to_path_buf(),
            daemon,
            client: API_VERSION,
        });
    }
    Ok(client)
}
