//! The binding's life after setup, rule by rule, against the simulated cloud over loopback HTTP
//! (docs/binding-api.yaml, "After setup"): the device list and its pages, unbinding and the
//! device's binding check, the same customer's repeated setup, re-binding by another customer
//! after a factory reset, and transfers.

mod support;

use support::{ALICE, BOB, app, base_url, device, set_up};
use unbox_core::binding::{BindingError, BindingId, EndReason, IdempotencyKey, ListQuery};
use unbox_core::secret::SecretString;
use unbox_sim::cloud::SimCloud;
use unbox_sim::idp::DEFAULT_CLIENT_ID;

fn id(binding: &unbox_core::binding::Binding) -> BindingId {
    BindingId::new(binding.binding_id.clone()).expect("valid binding id")
}

#[tokio::test]
async fn the_list_shows_each_device_with_its_details_one_page_at_a_time() {
    let cloud = SimCloud::start_loopback().await.unwrap();
    let alice = app(&cloud, ALICE).await;
    let before = cloud.backend().now();
    let mut bound = Vec::new();
    for (index, name) in ["Kitchen", "Hall", "Garage"].into_iter().enumerate() {
        let (credential, redeemer) = device(&cloud, &format!("dev-{index}"));
        bound.push(set_up(&cloud, &alice, &redeemer, &credential, Some(name)).await);
    }
    let bob = app(&cloud, BOB).await;
    let (other, redeemer) = device(&cloud, "dev-bob");
    set_up(&cloud, &bob, &redeemer, &other, None).await;

    let first = alice.list_bindings(&ListQuery { limit: Some(2), ..ListQuery::default() }).await.unwrap();
    assert_eq!(first.bindings.len(), 2);
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = alice
        .list_bindings(&ListQuery { limit: Some(2), cursor: Some(cursor), ..ListQuery::default() })
        .await
        .unwrap();
    assert_eq!(second.next_cursor, None);
    let listed: Vec<_> = first.bindings.iter().chain(&second.bindings).collect();
    let names: Vec<&str> = listed.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["Kitchen", "Hall", "Garage"], "oldest first, alice's only");
    for (entry, binding) in listed.iter().zip(&bound) {
        assert_eq!(entry.binding_id.as_str(), binding.binding_id);
        assert_eq!(entry.device_id, binding.device_id);
        assert_eq!(entry.bound_at, binding.bound_at);
        assert!(entry.last_redemption_at >= before && entry.last_redemption_at <= entry.bound_at);
        assert_eq!(entry.bound_by_client, DEFAULT_CLIENT_ID);
        assert_eq!(entry.ended, None);
    }
    assert_eq!(alice.all_bindings(false).await.unwrap().len(), 3);
    let bobs = bob.all_bindings(false).await.unwrap();
    assert_eq!(bobs.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["dev-bob"], "named by its id");
}

#[tokio::test]
async fn unbinding_ends_the_binding_and_the_device_learns_it_at_its_next_check() {
    let cloud = SimCloud::start_loopback().await.unwrap();
    let alice = app(&cloud, ALICE).await;
    let (credential, redeemer) = device(&cloud, "dev-1");
    let binding = set_up(&cloud, &alice, &redeemer, &credential, None).await;
    assert!(redeemer.is_bound(&base_url(&cloud)).await.unwrap());

    let bob = app(&cloud, BOB).await;
    assert_eq!(bob.unbind(&id(&binding)).await, Err(BindingError::BindingNotFound), "not bob's");
    alice.unbind(&id(&binding)).await.unwrap();
    assert!(!redeemer.is_bound(&base_url(&cloud)).await.unwrap());
    assert!(alice.all_bindings(false).await.unwrap().is_empty());
    let history = alice.all_bindings(true).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].ended.map(|(_, reason)| reason), Some(EndReason::Unbound));
    alice.unbind(&id(&binding)).await.expect("unbinding again is harmless");

    let unknown = BindingId::new("bnd_nothing").unwrap();
    assert_eq!(alice.unbind(&unknown).await, Err(BindingError::BindingNotFound));
}

#[tokio::test]
async fn the_binding_check_needs_the_device_credential() {
    let cloud = SimCloud::start_loopback().await.unwrap();
    let (_, registered) = device(&cloud, "dev-1");
    assert!(!registered.is_bound(&base_url(&cloud)).await.unwrap(), "never set up");
    // The same id with another secret than the factory's.
    let forged = unbox_core::binding::DeviceCredential::new(
        unbox_core::binding::DeviceId::new("dev-1").unwrap(),
        unbox_core::secret::SecretBytes::new(vec![7; 32]),
    )
    .unwrap();
    let forged = unbox_core::binding::ClaimRedeemer::new(forged).unwrap();
    assert_eq!(forged.is_bound(&base_url(&cloud)).await, Err(BindingError::DeviceUnauthorized));
}

#[tokio::test]
async fn the_same_customer_setting_a_device_up_again_keeps_its_binding() {
    let cloud = SimCloud::start_loopback().await.unwrap();
    let alice = app(&cloud, ALICE).await;
    let (credential, redeemer) = device(&cloud, "dev-1");
    let first = set_up(&cloud, &alice, &redeemer, &credential, Some("Kitchen")).await;
    cloud.backend().advance_clock(std::time::Duration::from_secs(60));
    let again = set_up(&cloud, &alice, &redeemer, &credential, None).await;
    assert_eq!((again.binding_id.as_str(), again.bound_at), (first.binding_id.as_str(), first.bound_at));
    assert_ne!(again.claim_id, first.claim_id, "the confirm answers for its own claim");
    let list = alice.all_bindings(true).await.unwrap();
    assert_eq!(list.len(), 1, "no second binding, nothing ended");
    assert_eq!(list[0].name, "Kitchen", "a setup without a name keeps the old one");
    assert!(list[0].last_redemption_at > first.bound_at, "the new redemption is recorded");
}

#[tokio::test]
async fn another_customer_setting_a_reset_device_up_takes_it_and_the_previous_owner_sees_why() {
    let cloud = SimCloud::start_loopback().await.unwrap();
    let alice = app(&cloud, ALICE).await;
    let bob = app(&cloud, BOB).await;
    let (credential, redeemer) = device(&cloud, "dev-1");
    let alices = set_up(&cloud, &alice, &redeemer, &credential, None).await;
    let offer = alice.offer_transfer(&id(&alices), &IdempotencyKey::generate()).await.unwrap();

    // Factory reset: the device forgets its owner; whoever holds it (PoP) sets it up again.
    let before = cloud.backend().now();
    let bobs = set_up(&cloud, &bob, &redeemer, &credential, None).await;
    assert_ne!(bobs.binding_id, alices.binding_id);
    assert_eq!(bob.all_bindings(false).await.unwrap()[0].binding_id.as_str(), bobs.binding_id);
    assert!(alice.all_bindings(false).await.unwrap().is_empty());
    let history = alice.all_bindings(true).await.unwrap();
    let (ended_at, reason) = history[0].ended.expect("ended");
    assert_eq!(reason, EndReason::Rebound);
    assert!(ended_at >= before);
    assert!(redeemer.is_bound(&base_url(&cloud)).await.unwrap(), "bound, to bob now");
    // Alice's open offer died with her binding; her binding is no longer hers to remove.
    let carol_key = IdempotencyKey::generate();
    assert_eq!(
        bob.accept_transfer(&offer.code, &carol_key).await.err(),
        Some(BindingError::TransferNotFound)
    );
    alice.unbind(&id(&alices)).await.expect("removing an ended binding is harmless");
    assert!(redeemer.is_bound(&base_url(&cloud)).await.unwrap(), "alice cannot unbind bob's device");
}

#[tokio::test]
async fn a_transfer_offer_moves_the_device_once_both_see_the_outcome() {
    let cloud = SimCloud::start_loopback().await.unwrap();
    let alice = app(&cloud, ALICE).await;
    let bob = app(&cloud, BOB).await;
    let (credential, redeemer) = device(&cloud, "dev-1");
    let alices = set_up(&cloud, &alice, &redeemer, &credential, Some("Lamp")).await;
    let key = IdempotencyKey::generate();
    let offer = alice.offer_transfer(&id(&alices), &key).await.unwrap();
    let replayed = alice.offer_transfer(&id(&alices), &key).await.unwrap();
    assert_eq!(replayed.code, offer.code, "a retried offer is the same offer");
    assert_eq!(offer.device_id, credential.device_id().clone());

    let own = alice.accept_transfer(&offer.code, &IdempotencyKey::generate()).await;
    assert!(matches!(own, Err(BindingError::Rejected { status: 400, .. })), "{own:?}");
    let accept_key = IdempotencyKey::generate();
    let bobs = bob.accept_transfer(&offer.code, &accept_key).await.unwrap();
    assert_eq!(bob.accept_transfer(&offer.code, &accept_key).await.unwrap(), bobs, "replayed");
    assert_eq!((bobs.name.as_str(), bobs.device_id.clone()), ("Lamp", credential.device_id().clone()));
    assert_eq!(bob.all_bindings(false).await.unwrap(), std::slice::from_ref(&bobs));
    let alices_view = alice.all_bindings(true).await.unwrap();
    assert_eq!(alices_view[0].ended.map(|(_, r)| r), Some(EndReason::Transferred));
    assert!(alice.all_bindings(false).await.unwrap().is_empty());
    let again = alice.accept_transfer(&offer.code, &IdempotencyKey::generate()).await;
    assert_eq!(again.err(), Some(BindingError::TransferNotFound), "single use");
    let forged = bob.accept_transfer(&SecretString::new("A".repeat(43)), &IdempotencyKey::generate()).await;
    assert_eq!(forged.err(), Some(BindingError::TransferNotFound));
    assert_eq!(
        alice.offer_transfer(&id(&alices), &IdempotencyKey::generate()).await.err(),
        Some(BindingError::BindingNotFound),
        "an ended binding cannot be offered"
    );
    assert!(redeemer.is_bound(&base_url(&cloud)).await.unwrap());
}
