//! The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

use serde_json::{json, Value};

pub fn document() -> Value {
    let money = json!({"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$", "examples": ["1234.50"]});
    let error = json!({"$ref": "#/components/schemas/Error"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Recauda API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Consulta de adeudos municipales y órdenes de pago. Los importes son cadenas decimales en pesos (MXN) con dos decimales; los mensajes de error están en español."
        },
        "paths": {
            "/api/v1/debts": {
                "get": {
                    "operationId": "getDebts",
                    "summary": "Adeudos por número de cuenta o por RFC",
                    "parameters": [
                        {"name": "account", "in": "query", "schema": {"type": "string", "maxLength": 32}, "description": "Número de cuenta (use account o rfc, no ambos)"},
                        {"name": "rfc", "in": "query", "schema": {"type": "string", "minLength": 12, "maxLength": 13}, "description": "RFC de persona física (13) o moral (12)"}
                    ],
                    "responses": {
                        "200": {"description": "Adeudos cotizados al día de hoy", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Debts"}}}},
                        "400": {"description": "Consulta inválida (invalid_query, invalid_account, invalid_rfc, generic_rfc)", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "Cuenta o RFC sin registro (not_found)", "content": {"application/json": {"schema": error}}},
                        "429": {"description": "Demasiadas consultas (rate_limited); ver Retry-After", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": error}}},
                        "503": {"description": "Base de datos no disponible (unavailable)", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/api/v1/orders": {
                "post": {
                    "operationId": "createOrder",
                    "summary": "Crea una orden de pago con los adeudos de una cuenta o un RFC",
                    "description": "Congela la cotización (recargos, descuentos, redondeo) hasta el fin del día en la zona horaria del municipio. Sin \"charges\" toma todos los adeudos pendientes; con ellos, solo esos, del más antiguo al más reciente por cuenta y concepto. Comparte el límite de consultas por minuto.",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateOrder"}}}},
                    "responses": {
                        "201": {"description": "Orden creada", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                        "400": {"description": "Solicitud inválida (invalid_json, invalid_query, invalid_account, invalid_rfc, generic_rfc, invalid_charges, older_charge_unpaid)", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "Cuenta o RFC sin registro (not_found)", "content": {"application/json": {"schema": error}}},
                        "409": {"description": "Algún adeudo ya está en otra orden vigente (charges_in_live_order)", "content": {"application/json": {"schema": error}}},
                        "413": {"description": "Cuerpo demasiado grande (payload_too_large)", "content": {"application/json": {"schema": error}}},
                        "415": {"description": "El cuerpo no es JSON (unsupported_media_type)", "content": {"application/json": {"schema": error}}},
                        "429": {"description": "Demasiadas consultas (rate_limited); ver Retry-After", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": error}}},
                        "503": {"description": "Base de datos no disponible (unavailable)", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/api/v1/orders/{id}": {
                "get": {
                    "operationId": "getOrder",
                    "summary": "Una orden de pago: estado, partidas y transiciones",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {"description": "La orden", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                        "404": {"description": "Orden inexistente (order_not_found)", "content": {"application/json": {"schema": error}}},
                        "503": {"description": "Base de datos no disponible (unavailable)", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/api/v1/orders/{id}/requote": {
                "post": {
                    "operationId": "requoteOrder",
                    "summary": "Vuelve a cotizar una orden vencida: nueva orden con las cifras de hoy",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {
                        "201": {"description": "Nueva orden (requoted_from apunta a la vencida)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}},
                        "404": {"description": "Orden inexistente (order_not_found)", "content": {"application/json": {"schema": error}}},
                        "409": {"description": "La orden sigue vigente (order_still_live), no está vencida (order_not_requotable), sus adeudos ya no están pendientes (charges_not_open) o están en otra orden vigente (charges_in_live_order)", "content": {"application/json": {"schema": error}}},
                        "429": {"description": "Demasiadas consultas (rate_limited)", "content": {"application/json": {"schema": error}}},
                        "503": {"description": "Base de datos no disponible (unavailable)", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/api/v1/orders/{id}/checkout": {
                "post": {
                    "operationId": "checkoutOrder",
                    "summary": "Inicia (o retoma) el pago en línea de una orden vigente: devuelve la URL a la que enviar al ciudadano (sin claves de Stripe, el proveedor de prueba integrado)",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {
                        "201": {"description": "Intento de pago", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["order_id", "attempt_id", "provider", "redirect_url"],
                            "properties": {
                                "order_id": {"type": "integer"},
                                "attempt_id": {"type": "integer"},
                                "provider": {"type": "string", "enum": ["demo", "stripe"]},
                                "redirect_url": {"type": "string"}
                            }
                        }}}},
                        "404": {"description": "Orden inexistente (order_not_found)", "content": {"application/json": {"schema": error}}},
                        "409": {"description": "La orden ya no se puede pagar en línea (order_not_payable, event_refused)", "content": {"application/json": {"schema": error}}},
                        "503": {"description": "Base de datos no disponible (unavailable)", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/api/v1/receipts/{folio}/verify": {
                "get": {
                    "operationId": "verifyReceipt",
                    "summary": "Verifica un recibo oficial con el código de su QR: auténtico, alterado o falso, cancelado o desconocido",
                    "parameters": [
                        {"name": "folio", "in": "path", "required": true, "schema": {"type": "string", "example": "A-2026-000123"}},
                        {"name": "s", "in": "query", "required": true, "description": "El código del QR: <kid>.<firma Ed25519 en base64url>", "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "Veredicto (authentic, forged o cancelled)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Verification"}}}},
                        "400": {"description": "Falta el código (missing_signature)", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "Folio desconocido (verdict unknown)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Verification"}}}},
                        "429": {"description": "Demasiadas consultas (rate_limited)", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/api/v1/receipts/keys": {
                "get": {
                    "operationId": "receiptKeys",
                    "summary": "Las llaves públicas (Ed25519) que firman los recibos, vigentes y retiradas, con su identificador",
                    "responses": {"200": {"description": "{\"keys\": [{kid, public_key_b64url, valid_from, valid_until}]}"}}
                }
            },
            "/api/v1/stripe/webhook": {
                "post": {
                    "operationId": "stripeWebhook",
                    "summary": "Eventos de Stripe (checkout.session.completed, .async_payment_succeeded, .async_payment_failed, .expired), firmados con Stripe-Signature sobre el cuerpo sin modificar (tolerancia de 5 minutos); otros tipos se aceptan y se ignoran",
                    "parameters": [{"name": "Stripe-Signature", "in": "header", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": {"description": "Recibido (status: applied, duplicate, overpayment, refused o ignored)", "content": {"application/json": {"schema": {
                            "type": "object", "required": ["received", "status"],
                            "properties": {"received": {"type": "boolean"}, "status": {"type": "string", "enum": ["applied", "duplicate", "overpayment", "refused", "ignored"]}}
                        }}}},
                        "400": {"description": "Firma ausente, inválida o vencida (bad_signature), o cuerpo que no es un evento (bad_event)", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "Stripe no está configurado (stripe_not_configured)", "content": {"application/json": {"schema": error}}},
                        "503": {"description": "Base de datos no disponible (unavailable): Stripe reintenta", "content": {"application/json": {"schema": error}}}
                    }
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "¿Responde la base de datos?",
                    "responses": {"200": {"description": "Todo bien"}, "503": {"description": "La base de datos no responde"}}
                }
            }
        },
        "components": {
            "schemas": {
                "Money": money,
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "enum": ["invalid_query", "invalid_account", "invalid_rfc", "generic_rfc", "not_found", "rate_limited", "unavailable",
                            "invalid_json", "unsupported_media_type", "payload_too_large", "invalid_charges", "older_charge_unpaid",
                            "charges_in_live_order", "order_not_found", "order_still_live", "order_not_requotable", "charges_not_open",
                            "attempt_not_found", "order_not_payable", "event_refused"]},
                        "message": {"type": "string"},
                        "hint": {"type": "string"}
                    }}}
                },
                "Debts": {
                    "type": "object",
                    "required": ["computed_on", "currency", "accounts", "subtotal", "rounding", "total"],
                    "properties": {
                        "computed_on": {"type": "string", "format": "date"},
                        "currency": {"type": "string", "const": "MXN"},
                        "accounts": {"type": "array", "items": {"$ref": "#/components/schemas/Account"}},
                        "subtotal": {"$ref": "#/components/schemas/Money"},
                        "rounding": {"$ref": "#/components/schemas/Money", "description": "Ajuste por redondeo al peso (CFF art. 20)"},
                        "total": {"$ref": "#/components/schemas/Money"}
                    }
                },
                "Account": {
                    "type": "object",
                    "required": ["account", "kind", "person_kind", "owner", "items", "total"],
                    "properties": {
                        "account": {"type": "string"},
                        "kind": {"type": "string", "examples": ["predial", "agua", "licencia_comercial"]},
                        "person_kind": {"type": "string", "enum": ["fisica", "moral"]},
                        "owner": {"type": "string", "description": "Nombre enmascarado (iniciales)"},
                        "colonia": {"type": ["string", "null"]},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                        "total": {"$ref": "#/components/schemas/Money"}
                    }
                },
                "Item": {
                    "type": "object",
                    "required": ["charge_id", "concept", "concept_name", "period", "due_date", "months_late", "principal", "recargos", "discount", "discounts", "total"],
                    "properties": {
                        "charge_id": {"type": "integer"},
                        "concept": {"type": "string"},
                        "concept_name": {"type": "string"},
                        "period": {"type": "string"},
                        "due_date": {"type": "string", "format": "date"},
                        "months_late": {"type": "integer", "minimum": 0},
                        "principal": {"$ref": "#/components/schemas/Money"},
                        "recargos": {"$ref": "#/components/schemas/Money"},
                        "discount": {"$ref": "#/components/schemas/Money"},
                        "discounts": {"type": "array", "items": {"$ref": "#/components/schemas/Discount"}},
                        "total": {"$ref": "#/components/schemas/Money"}
                    }
                },
                "CreateOrder": {
                    "type": "object",
                    "additionalProperties": false,
                    "description": "account o rfc, no ambos",
                    "properties": {
                        "account": {"type": "string", "maxLength": 32},
                        "rfc": {"type": "string", "minLength": 12, "maxLength": 13},
                        "charges": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "description": "charge_id de los adeudos a pagar; todos si se omite"}
                    }
                },
                "Order": {
                    "type": "object",
                    "required": ["id", "reference", "status", "items", "subtotal", "rounding", "total", "currency", "expires_at", "created_at", "requoted_from", "transitions"],
                    "properties": {
                        "id": {"type": "integer"},
                        "reference": {"type": "string", "pattern": "^[0-9]{16}$", "description": "Referencia de pago con dígitos verificadores (ISO 7064 MOD 97-10)"},
                        "status": {"$ref": "#/components/schemas/OrderStatus"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/OrderItem"}},
                        "subtotal": {"$ref": "#/components/schemas/Money"},
                        "rounding": {"$ref": "#/components/schemas/Money"},
                        "total": {"$ref": "#/components/schemas/Money"},
                        "currency": {"type": "string", "const": "MXN"},
                        "expires_at": {"type": "string", "format": "date-time", "description": "Fin del día (zona horaria del municipio), en UTC"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "requoted_from": {"type": ["integer", "null"]},
                        "transitions": {"type": "array", "items": {"$ref": "#/components/schemas/Transition"}},
                        "receipt": {
                            "description": "El recibo oficial de una orden pagada (null si no lo está)",
                            "type": ["object", "null"],
                            "properties": {
                                "folio": {"type": "string", "example": "A-2026-000123"},
                                "verify_url": {"type": "string", "format": "uri", "description": "Lo que contiene el código QR"},
                                "html_url": {"type": "string", "format": "uri"},
                                "pdf_letter_url": {"type": "string", "format": "uri"},
                                "pdf_ticket_url": {"type": "string", "format": "uri"}
                            }
                        }
                    }
                },
                "Verification": {
                    "type": "object",
                    "required": ["folio", "verdict", "message"],
                    "properties": {
                        "folio": {"type": "string"},
                        "verdict": {"type": "string", "enum": ["authentic", "forged", "cancelled", "unknown"]},
                        "message": {"type": "string"},
                        "cancel_reason": {"type": ["string", "null"]},
                        "receipt": {"description": "Datos para comparar con el papel (solo si es auténtico o cancelado); el nombre va enmascarado", "type": ["object", "null"]}
                    }
                },
                "OrderStatus": {"type": "string", "enum": ["created", "pending", "succeeded", "failed", "expired", "cancelled", "refunded"]},
                "OrderItem": {
                    "type": "object",
                    "required": ["charge_id", "account", "concept", "period", "due_date", "principal", "recargos", "discount", "total"],
                    "properties": {
                        "charge_id": {"type": "integer"},
                        "account": {"type": "string"},
                        "concept": {"type": "string"},
                        "period": {"type": "string"},
                        "due_date": {"type": "string", "format": "date"},
                        "principal": {"$ref": "#/components/schemas/Money"},
                        "recargos": {"$ref": "#/components/schemas/Money"},
                        "discount": {"$ref": "#/components/schemas/Money"},
                        "total": {"$ref": "#/components/schemas/Money"}
                    }
                },
                "Transition": {
                    "type": "object",
                    "required": ["from", "to", "event", "at"],
                    "properties": {
                        "from": {"oneOf": [{"$ref": "#/components/schemas/OrderStatus"}, {"type": "null"}]},
                        "to": {"$ref": "#/components/schemas/OrderStatus"},
                        "event": {"type": "string", "examples": ["created", "redirected", "paid", "expired"]},
                        "at": {"type": "string", "format": "date-time"}
                    }
                },
                "Discount": {
                    "type": "object",
                    "required": ["program", "name", "legal_basis", "valid_until", "component", "percent", "amount"],
                    "properties": {
                        "program": {"type": "string"},
                        "name": {"type": "string"},
                        "legal_basis": {"type": "string"},
                        "valid_until": {"type": "string", "format": "date"},
                        "component": {"type": "string", "enum": ["principal", "recargos", "multas"]},
                        "percent": {"type": "string", "examples": ["50"]},
                        "amount": {"$ref": "#/components/schemas/Money"}
                    }
                }
            }
        }
    })
}
