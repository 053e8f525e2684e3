//! What `tend ui` and the daemon share on disk: the install's key (`<state>/ui-token`, made once,
//! readable by the user only) and where the running dashboard listens (`<state>/ui.json`, while
//! the daemon runs).

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const TOKEN_FILE: &str = "ui-token";
pub const INFO_FILE: &str = "ui.json";

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a dashboard key (delete the file; a new one is made)", .0.display())]
    BadToken(PathBuf),
    #[error("cannot get random bytes from the system: {0}")]
    Random(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `len` random bytes as lowercase hex.
pub(crate) fn random_hex(len: usize) -> Result<String, InstallError> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|e| InstallError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// The install's dashboard key: read from `<state>/ui-token`, or made (32 random bytes) and
/// written there with mode 0600 the first time. A file others can read is made private again.
pub fn load_or_create_token(state_dir: &Path) -> Result<String, InstallError> {
    let path = state_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim().to_owned();
            if token.len() < 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(InstallError::BadToken(path));
            }
            let mode = std::fs::metadata(&path)
                .map_err(io(&path))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io(&path))?;
            }
            Ok(token)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(state_dir).map_err(io(state_dir))?;
            let token = random_hex(32)?;
            // create_new: two processes making the key at once must not end up with two keys.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(format!("{token}\n").as_bytes())
                        .map_err(io(&path))?;
                    Ok(token)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_token(state_dir)
                }
                Err(e) => Err(io(&path)(e)),
            }
        }
        Err(e) => Err(io(&path)(e)),
    }
}

/// Where the running dashboard listens; no secret in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiInfo {
    pub port: u16,
    /// The daemon's process.
    pub pid: u32,
}

impl UiInfo {
    /// The address to open, carrying the key (the page then drops it from the address bar).
    pub fn url_with_token(&self, token: &str) -> String {
        format!("http://127.0.0.1:{}/?token={token}", self.port)
    }
}

/// The dashboard's address, if a daemon wrote one.
pub fn read_info(state_dir: &Path) -> Result<Option<UiInfo>, InstallError> {
    let path = state_dir.join(INFO_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(serde_json::from_str(&text).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Writes `ui.json` (atomically) and removes it when dropped.
pub(crate) struct InfoFile {
    path: PathBuf,
}

impl InfoFile {
    pub(crate) fn write(state_dir: &Path, info: &UiInfo) -> Result<InfoFile, InstallError> {
        let path = state_dir.join(INFO_FILE);
        let tmp = state_dir.join("ui.json.tmp");
        let text = serde_json::to_string(info).unwrap_or_default();
        std::fs::write(&tmp, text + "\n").map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(InfoFile { path })
    }
}

impl Drop for InfoFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_token_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = load_or_create_token(&state).unwrap();
        assert_eq!(first.len(), 64);
        let mode = std::fs::metadata(state.join(TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create_token(&state).unwrap(), first);
        // Made readable by others by mistake: private again, same key.
        std::fs::set_permissions(
            state.join(TOKEN_FILE),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(load_or_create_token(&state).unwrap(), first);
        let mode = std::fs::metadata(state.join(TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(state.join(TOKEN_FILE), "short\n").unwrap();
        assert!(matches!(
            load_or_create_token(&state),
            Err(InstallError::BadToken(_))
        ));
    }

    #[test]
    fn info_is_written_and_removed_with_its_guard() {
        let dir = tempfile::tempdir().unwrap();
        let info = UiInfo { port: 4242, pid: 7 };
        let guard = InfoFile::write(dir.path(), &info).unwrap();
        assert_eq!(read_info(dir.path()).unwrap(), Some(info.clone()));
        assert_eq!(
            info.url_with_token("abc"),
            "http://127.0.0.1:4242/?token=abc"
        );
        drop(guard);
        assert_eq!(read_info(dir.path()).unwrap(), None);
    }
}
