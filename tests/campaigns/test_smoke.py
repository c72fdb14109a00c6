from tests.campaigns.conftest import dispatch, finished


def test_a_cda_campaign_reaches_every_recipient_once(camp, fakes):
    campaign_id = dispatch(camp, "cda", 5)
    done = finished(camp, campaign_id)
    assert done["status"] == "completed", done
    assert done["totals"]["sent"] == 5
    assert len(fakes["cda"].received) == 5
