use pipelinescope::profile;

// `files/` holds the inner module's file.
#[profile]
#[path = "files"]
mod outer {
    pub mod stages;
}

fn main() {
    outer::stages::load();
}
