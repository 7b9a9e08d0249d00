//! The database holds customers' names and phone numbers: its folder is readable by
//! the server's own user only. The folder is made 0700 before sled opens it, so that
//! whatever sled creates in it later (with its own modes) cannot be reached by
//! others, and what is already in it is made 0600 (files) and 0700 (folders), for a
//! database made before, or by a tool that left it open to everyone.

use std::path::Path;

/// Create the database folder, readable by this user only, if it is not there.
#[cfg(unix)]
pub fn create(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The folders above are not ours to close: only the database's own is.
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Make the folder 0700 and everything in it 0600 (files) or 0700 (folders).
/// Symbolic links are left alone: what they point to is not the database's.
#[cfg(unix)]
pub fn tighten(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    let ft = meta.file_type();
    let mode = if ft.is_dir() {
        0o700
    } else if ft.is_file() {
        0o600
    } else {
        return Ok(());
    };
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    if ft.is_dir() {
        for entry in std::fs::read_dir(path)? {
            tighten(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn create(path: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(path)
}

/// Elsewhere than Unix, the folder's access is left to the system's own lists.
#[cfg(not(unix))]
pub fn tighten(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
