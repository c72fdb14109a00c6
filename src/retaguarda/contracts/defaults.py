"""The default ISP contract template (Portuguese), shipped with the demo and offered by the editor."""

from __future__ import annotations

DEFAULT_TEMPLATE_NAME = "Contrato padrão de internet (SCM)"
DEFAULT_TEMPLATE = """CONTRATO DE PRESTAÇÃO DE SERVIÇO DE COMUNICAÇÃO MULTIMÍDIA (SCM) Nº {{ numero }}

CONTRATADA: {{ empresa.nome }}.
ASSINANTE: {{ cliente.nome }}, documento {{ cliente.documento }}, e-mail {{ cliente.email }}, \
endereço de instalação {{ cliente.endereco }}.

1. OBJETO. A CONTRATADA prestará ao ASSINANTE o serviço de acesso à internet no plano \
{{ plano.nome }}, pelo preço mensal de {{ preco }}, com vencimento no dia {{ vencimento }} de cada mês.

2. VIGÊNCIA. Este contrato vigora de {{ inicio }} até {{ fim }}. Renovação automática: \
{{ renovacao_automatica }}{% if renovacao_automatica == "sim" %}, por períodos de \
{{ renovacao_meses }} meses{% endif %}.

3. FIDELIDADE. {% if fidelidade_meses > 0 %}Em troca do benefício concedido, o ASSINANTE se compromete a \
permanecer por {{ fidelidade_meses }} meses. Em caso de cancelamento antes desse prazo, a multa de até \
{{ multa }} será cobrada proporcionalmente aos meses restantes, conforme as regras da Anatel. Não há multa \
quando o cancelamento decorre de descumprimento da CONTRATADA.{% else %}Este contrato não tem prazo de \
permanência.{% endif %}

4. CANCELAMENTO. O ASSINANTE pode pedir o cancelamento a qualquer tempo, sem intervenção de atendente, \
pelo portal ou por telefone.

5. ASSINATURA ELETRÔNICA. As partes admitem como válida a assinatura eletrônica deste documento, nos \
termos do art. 10, § 2º, da MP 2.200-2/2001.

{{ hoje }}.
"""
