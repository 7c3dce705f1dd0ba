//! Writing run files so that a crash never leaves a truncated one behind.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader sees either the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_string());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Points `<output_dir>/latest` at the run directory `run_id`: a relative symlink where the
/// platform has them (replaced atomically by a rename), else a text file holding the name.
pub fn update_latest(output_dir: &Path, run_id: &str) -> std::io::Result<()> {
    let latest = output_dir.join("latest");
    #[cfg(unix)]
    {
        let tmp = output_dir.join(format!(".latest.tmp-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(run_id, &tmp)?;
        std::fs::rename(&tmp, &latest)
    }
    #[cfg(not(unix))]
    {
        write_atomic(&latest, run_id.as_bytes())
    }
}
