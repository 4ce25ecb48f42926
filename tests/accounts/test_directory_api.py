from opsdesk.accounts.models import ModuleSupport


def test_modules_list_owner_and_support_engineers_per_problem_type(api, people, payment):
    ModuleSupport.objects.create(module=payment, problem_type="data", engineer=people["support"])
    response = api["submitter"].get("/modules")
    assert response.status_code == 200
    [module] = response.json()
    assert module["name"] == "支付模块"
    assert module["owner"]["username"] == people["owner"].username
    assert module["support"] == [{"problem_type": "data", "engineer": {
        "id": people["support"].pk, "username": people["support"].username, "name": "李娜",
        "department": "技术部", "roles": ["support"]}}]


def test_staff_directory_is_for_staff_and_filters_by_role(api, people):
    assert api["submitter"].get("/staff").status_code == 403
    owners = api["duty"].get("/staff", role="owner").json()
    assert [p["username"] for p in owners] == [people["owner"].username]
    everyone = {p["username"] for p in api["duty"].get("/staff").json()}
    assert people["submitter"].username not in everyone
    assert people["head"].username in everyone


def test_token_user_language_preference_wins_over_header(api, people):
    people["submitter"].language = "zh-hans"
    people["submitter"].save()
    response = api["submitter"].get("/tickets/OPS-999999")
    assert response.status_code == 404
    assert response.json()["message"] == "工单不存在：OPS-999999。"
