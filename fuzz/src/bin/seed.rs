//! Writes the seed corpus of every fuzz target from the examples, into `corpus/<target>/`
//! (what `cargo fuzz run <target>` reads first): `cargo run --release --bin seed`.

use std::fs;

use function_sco::sdk::render;
use function_sco_fuzz::{examples, root, runner};
use prost::Message;

fn main() {
    let corpus = root().join("fuzz/corpus");
    let write_file = |target: &str, file: String, bytes: Vec<u8>| {
        let dir = corpus.join(target);
        fs::create_dir_all(&dir).expect("create the corpus directory");
        fs::write(dir.join(file), bytes).expect("write a seed");
    };
    let write = |target: &str, index: usize, bytes: Vec<u8>| {
        write_file(target, format!("example-{index:02}"), bytes);
    };
    for (index, input) in examples().iter().enumerate() {
        let (request, _) = render::settle(runner(), input);
        write("request", index, request.encode_to_vec());
        let xr = pbstruct::from_json_value(&input.composite).expect("an XR is an object");
        write("struct_codec", index, xr.encode_to_vec());
        let mut spec = vec![u8::try_from(index).expect("fewer than 256 examples")];
        spec.extend(serde_json::to_vec(&input.composite["spec"]).expect("JSON"));
        write("composition", index, spec);
        // Each object's status, in place (part 0 of `replace_part`).
        let objects = input.observed.iter().chain(&input.required);
        for (object, value) in objects.enumerate() {
            let mut seed = vec![
                u8::try_from(index).expect("fewer than 256 examples"),
                u8::try_from(object).expect("fewer than 256 objects an example"),
                0,
            ];
            seed.extend(serde_json::to_vec(&value["status"]).expect("JSON"));
            write_file("observed", format!("example-{index:02}-{object:03}"), seed);
        }
    }
    let shown = corpus.canonicalize().unwrap_or(corpus);
    println!(
        "seeded {} examples into {}",
        examples().len(),
        shown.display()
    );
}
