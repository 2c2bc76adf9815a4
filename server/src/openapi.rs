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
            "description": "Consulta de adeudos municipales. Los importes son cadenas decimales en pesos (MXN) con dos decimales; los mensajes de error están en español."
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
                        "code": {"type": "string", "enum": ["invalid_query", "invalid_account", "invalid_rfc", "generic_rfc", "not_found", "rate_limited", "unavailable"]},
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
