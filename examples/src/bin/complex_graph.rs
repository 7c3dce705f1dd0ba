//! Shared utilities called from several modules: two pipelines (orders and inventory) built
//! from stages that both use the same helpers, so the report shows helpers with several callers
//! and stages fed from more than one place.
//!
//! `cargo run --release -p pipelinescope-examples --bin complex_graph`

use pipelinescope::profile;

/// Helpers every module uses.
mod util {
    use pipelinescope::profile;

    /// Rounds a price to cents.
    #[profile]
    pub fn round_cents(x: f64) -> f64 {
        (x * 100.0).round() / 100.0
    }

    /// A stable hash of a key, for bucketing.
    #[profile]
    pub fn bucket(key: &str, buckets: u64) -> u64 {
        key.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
        }) % buckets
    }
}

/// Order processing: a lazy chain.
mod orders {
    use super::util;
    use pipelinescope::stage;

    pub struct Order {
        pub sku: String,
        pub quantity: u32,
        pub price: f64,
    }

    pub fn source(n: usize) -> impl Iterator<Item = Order> {
        (0..n).map(|i| Order {
            sku: format!("SKU-{}", i % 97),
            quantity: (i % 5) as u32,
            price: 3.0 + (i % 13) as f64 * 1.37,
        })
    }

    #[stage("orders.validate")]
    pub fn validate(orders: impl Iterator<Item = Order>) -> impl Iterator<Item = Order> {
        orders.filter(|o| o.quantity > 0)
    }

    #[stage("orders.price")]
    pub fn price(orders: impl Iterator<Item = Order>) -> impl Iterator<Item = (String, f64)> {
        orders.map(|o| {
            let total = util::round_cents(o.price * f64::from(o.quantity));
            (o.sku, total)
        })
    }
}

/// Inventory: an eager pass over the same SKUs.
mod inventory {
    use super::util;
    use pipelinescope::stage;
    use std::collections::HashMap;

    #[stage("inventory.bucket")]
    pub fn bucket(skus: &[String]) -> HashMap<u64, usize> {
        let mut m = HashMap::new();
        for s in skus {
            *m.entry(util::bucket(s, 8)).or_insert(0) += 1;
        }
        m
    }

    #[stage("inventory.revalue")]
    pub fn revalue(prices: &[f64]) -> Vec<f64> {
        prices.iter().map(|p| util::round_cents(p * 1.08)).collect()
    }
}

/// Reporting: uses both pipelines' outputs and the shared hash.
#[profile]
fn summarize(priced: &[(String, f64)], buckets: &std::collections::HashMap<u64, usize>) -> f64 {
    let hot = priced
        .iter()
        .filter(|(sku, _)| util::bucket(sku, 8) == 0)
        .count();
    let revenue: f64 = priced.iter().map(|(_, p)| p).sum();
    println!(
        "  {} priced orders, {hot} in bucket 0, {} buckets",
        priced.len(),
        buckets.len()
    );
    revenue
}

fn main() {
    let _run = pipelinescope::start();
    let priced: Vec<(String, f64)> =
        orders::price(orders::validate(orders::source(60_000))).collect();
    let skus: Vec<String> = priced.iter().map(|(s, _)| s.clone()).collect();
    let buckets = inventory::bucket(&skus);
    let prices: Vec<f64> = priced.iter().map(|(_, p)| *p).collect();
    let revalued = inventory::revalue(&prices);
    println!("complex_graph:");
    let revenue = summarize(&priced, &buckets);
    let revalued_total: f64 = revalued.iter().sum();
    println!("  revenue {revenue:.2}, revalued {revalued_total:.2}");
}
