"""Leases, the one instance-lease context manager, the keeper, and tri-state event claims."""

from __future__ import annotations

import threading

import pytest

from stackops.store.leases import (
    Claim,
    LeaseBusy,
    LeaseKeeper,
    holder_here,
    instance_lease,
    instance_lease_name,
)


def test_a_claim_is_ours_then_done_and_a_redelivery_is_a_duplicate(services):
    claims = services.claims
    assert claims.claim("ev-1", "me", 30) is Claim.claimed
    assert claims.claim("ev-1", "me", 30) is Claim.claimed  # renewing our own
    claims.done(["ev-1"], "me", 3600)
    assert claims.claim("ev-1", "me", 30) is Claim.done
    assert claims.claim("ev-1", "other", 30) is Claim.done


def test_a_claim_held_elsewhere_is_not_a_duplicate(services):
    assert services.claims.claim("ev-2", "dead-dispatcher", 30) is Claim.claimed
    assert services.claims.claim("ev-2", "me", 30) is Claim.held  # never deleted as a repeat


def test_a_claim_lasts_the_visibility_timeout_in_use_then_is_taken_over(services, clock):
    assert services.claims.claim("ev-3", "dead", 30) is Claim.claimed
    clock.advance(29)
    assert services.claims.claim("ev-3", "me", 30) is Claim.held
    clock.advance(2)  # the message is visible again: so is the claim free
    assert services.claims.claim("ev-3", "me", 30) is Claim.claimed


def test_released_claims_can_be_claimed_again(services):
    services.claims.claim("ev-4", "a", 300)
    services.claims.release("ev-4", "a")
    assert services.claims.claim("ev-4", "b", 300) is Claim.claimed


def test_instance_lease_is_exclusive_and_given_back(services):
    leases = services.leases
    with instance_lease(leases, "in-1", "a", 60) as holder:
        assert holder == "a" and holder_here(instance_lease_name("in-1")) == "a"
        with pytest.raises(LeaseBusy), instance_lease(leases, "in-1", "b", 60):
            pass
    assert holder_here(instance_lease_name("in-1")) == ""
    assert leases.holder(instance_lease_name("in-1")) is None
    with instance_lease(leases, "in-1", "b", 60):
        assert leases.holder(instance_lease_name("in-1")) == "b"


def test_instance_lease_waits_when_asked_to(services):
    leases = services.leases
    leases.acquire(instance_lease_name("in-2"), "other", 60)
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            leases.release(instance_lease_name("in-2"), "other")

    ticks = iter(range(100))
    with instance_lease(
        leases, "in-2", "me", 60, wait_seconds=10, sleep=nap, clock=lambda: next(ticks)
    ):
        assert leases.holder(instance_lease_name("in-2")) == "me"
    assert len(naps) == 3


def test_an_expired_lease_is_taken_over(services, clock):
    leases = services.leases
    assert leases.acquire("instance#in-3", "dead", 30)
    clock.advance(31)
    with instance_lease(leases, "in-3", "me", 30):
        assert leases.holder("instance#in-3") == "me"


def test_the_keeper_renews_what_it_holds(services, clock):
    leases = services.leases
    keeper = LeaseKeeper(leases, 30)
    with instance_lease(leases, "in-4", "me", 30, keeper=keeper):
        assert keeper.held() == {"instance#in-4": "me"}
        clock.advance(25)
        keeper.renew()
        clock.advance(25)  # 50 s after taking it: alive only because it was renewed
        assert leases.holder("instance#in-4") == "me"
    assert keeper.held() == {}


def test_the_keeper_thread_stops_with_its_block(services):
    keeper = LeaseKeeper(services.leases, 30, interval=0.01)
    done = threading.Event()
    with keeper:
        keeper.hold("instance#in-5", "me")
        done.wait(0.1)
    count = keeper.renewals
    done.wait(0.05)
    assert keeper.renewals == count > 0
