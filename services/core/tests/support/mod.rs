//! What the state-machine tests share.

use pedigree_core::context::BlockContext;
use pedigree_core::event::{Body, Event};
use pedigree_core::product::ProductData;
use pedigree_core::state::{WorkingSet, apply};

/// Packs are commissioned only for a registered product: before the first commission of a GTIN the working set has
/// not seen, its signer registers it, through the same rules (master data has its own tests, `tests/products.rs`;
/// the prefix check is the envelope gate's, which these tests do not go through). Call with the products `event`
/// needs loaded.
pub fn registered_first(ws: &mut WorkingSet, event: &Event, at: BlockContext) {
    if let Body::Commission { gtin, .. } = &event.body
        && ws.product(gtin.as_str()).is_none()
    {
        let register = Event {
            body: Body::RegisterProduct {
                gtin: gtin.clone(),
                master: ProductData {
                    name: "Test product".into(),
                    dosage_form: "tablet".into(),
                    pack_size: 10,
                    ..ProductData::default()
                },
            },
            ..event.clone()
        };
        apply(&register, at, ws).expect("registering the product");
    }
}
