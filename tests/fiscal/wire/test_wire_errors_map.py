"""Every error shape providers use is read verbatim, with a hint when we know the code."""

from __future__ import annotations

from retaguarda.fiscal.errors_map import read_errors


def test_sefin_capitalised_and_lowercase_keys():
    upper = read_errors({"erros": [{"Codigo": "E0310", "Descricao": "Código inexistente", "Complemento": "x"}]})
    lower = read_errors({"erros": [{"codigo": "E0310", "descricao": "Código inexistente"}]})
    assert upper[0]["code"] == lower[0]["code"] == "E0310"
    assert upper[0]["message"] == "Código inexistente" and upper[0]["complement"] == "x"
    assert "national service code" in upper[0]["hint"]


def test_single_object_bare_list_and_gateway_shapes():
    assert read_errors({"erro": {"codigo": "E999", "descricao": "Erro não catalogado"}})[0]["code"] == "E999"
    assert read_errors([{"codigo": "A", "mensagem": "m"}]) == [{"code": "A", "message": "m"}]
    focus = read_errors({"codigo": "nfe_cancelada", "mensagem": "Nota já cancelada"})
    assert focus[0]["code"] == "nfe_cancelada" and focus[0]["hint"]
    plug = read_errors({"error": {"message": "Unauthorized"}})
    assert plug == [{"code": "", "message": "Unauthorized"}]
    assert read_errors({"status": "ok"}) == []
