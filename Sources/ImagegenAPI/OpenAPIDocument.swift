import Hummingbird

/// The OpenAPI 3.1 description of every route, served at `/openapi.json`.
///
/// `OpenAPIDocumentTests` compares its paths with the route table, and the fuzz run
/// (schemathesis) checks every answer against it.
enum OpenAPIDocument {
    static func register(in table: inout RouteTable) {
        table.add(.get, "openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: json))
            )
        }
    }

    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "imagegen",
    "version": "1.0.0",
    "description": "A durable job queue for AI image generation. Submit a request, get 202 and a task id at once, then poll, long-poll or stream the task's status. Every error is `{\"error\": {\"code\", \"message\"}}` with a stable `code`; `field` names the offending input when there is one. Amounts are decimal strings in US dollars, with the exact integer micro-dollars alongside."
  },
  "servers": [
    {
      "url": "/"
    }
  ],
  "security": [
    {
      "bearer": []
    }
  ],
  "paths": {
    "/images/generate": {
      "post": {
        "operationId": "generateImages",
        "summary": "Queue an image request",
        "description": "Answers 202 with the task id at once; the task runs on a worker. With an `Idempotency-Key`, repeating the same request within 24 hours returns the first task (with `Idempotent-Replayed: true`) instead of creating another.",
        "parameters": [
          {
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 255,
              "pattern": "^[!-~]+$"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ImageRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Queued (or replayed).",
            "headers": {
              "Location": {
                "description": "The status URL.",
                "schema": {
                  "type": "string"
                }
              },
              "Retry-After": {
                "description": "Seconds to wait before asking again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Accepted"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "402": {
            "description": "The request would pass the caller's daily or monthly spend limit.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "409": {
            "description": "The Idempotency-Key was used with a different request.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "415": {
            "$ref": "#/components/responses/NotJSON"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "429": {
            "description": "Too many submissions, or the request would pass an hourly or daily image limit.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            },
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before asking again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            }
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/images/estimate": {
      "post": {
        "operationId": "estimateImages",
        "summary": "Price a request without queueing it",
        "description": "The price a task of this request reserves against the caller's limits, and whether a submission would be accepted now. Nothing is queued or reserved.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ImageRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The price and the verdict.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Estimate"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "415": {
            "$ref": "#/components/responses/NotJSON"
          },
          "422": {
            "$ref": "#/components/responses/Invalid"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/images/tasks": {
      "get": {
        "operationId": "listTasks",
        "summary": "The caller's tasks, newest first",
        "parameters": [
          {
            "name": "status",
            "in": "query",
            "required": false,
            "schema": {
              "$ref": "#/components/schemas/TaskStatus"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100,
              "default": 20
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "`next_cursor` of the previous page.",
            "schema": {
              "type": "string",
              "maxLength": 128
            }
          }
        ],
        "responses": {
          "200": {
            "description": "One page.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TaskList"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/images/tasks/{id}/status": {
      "get": {
        "operationId": "getTaskStatus",
        "summary": "A task's status, with its images once it succeeded",
        "description": "With `wait=N` the answer comes as soon as the status changes, or after N seconds.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The task id from the 202 answer.",
            "schema": {
              "type": "string",
              "format": "uuid"
            }
          },
          {
            "name": "wait",
            "in": "query",
            "required": false,
            "description": "Seconds to wait for a change.",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 30
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The task.",
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before asking again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Task"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyWaiters"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/images/tasks/{id}/events": {
      "get": {
        "operationId": "streamTaskEvents",
        "summary": "A task's status changes as Server-Sent Events",
        "description": "One `status` event (data: the task as in the status answer, without inline images) now and at every change; the stream ends after the task finishes, or after EVENT_STREAM_IDLE_SECONDS (300) without a change. A `: keep-alive` comment comes every 15 seconds.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The task id from the 202 answer.",
            "schema": {
              "type": "string",
              "format": "uuid"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The event stream.",
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "object",
                  "required": [
                    "event",
                    "data"
                  ],
                  "properties": {
                    "event": {
                      "const": "status"
                    },
                    "data": {
                      "type": "string",
                      "contentMediaType": "application/json",
                      "description": "The task, as in the status answer without `images`."
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "429": {
            "$ref": "#/components/responses/TooManyWaiters"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/images/tasks/{id}/images/{position}": {
      "get": {
        "operationId": "getTaskImage",
        "summary": "One image of a succeeded task",
        "description": "The image bytes with their media type. The URL's content never changes, so it carries an ETag and may be cached for good; `If-None-Match` answers 304.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The task id from the 202 answer.",
            "schema": {
              "type": "string",
              "format": "uuid"
            }
          },
          {
            "name": "position",
            "in": "path",
            "required": true,
            "description": "From 0.",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 99
            }
          },
          {
            "name": "If-None-Match",
            "in": "header",
            "required": false,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The image.",
            "headers": {
              "ETag": {
                "schema": {
                  "type": "string"
                }
              },
              "Cache-Control": {
                "schema": {
                  "type": "string"
                }
              },
              "Content-Length": {
                "schema": {
                  "type": "integer"
                }
              }
            },
            "content": {
              "image/png": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "image/jpeg": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              },
              "image/webp": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "304": {
            "description": "The copy the client holds is current."
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "description": "The task has not succeeded, so it has no images yet.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "410": {
            "description": "The images were deleted at the end of their retention period.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/images/tasks/{id}/cancel": {
      "post": {
        "operationId": "cancelTask",
        "summary": "Cancel a task",
        "description": "A queued or retrying task ends `canceled` at once. A running one gets `cancel_requested` and ends `canceled` when its attempt ends; if the provider already made its images, they are kept and charged.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The task id from the 202 answer.",
            "schema": {
              "type": "string",
              "format": "uuid"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The task after the cancel.",
            "headers": {
              "Retry-After": {
                "description": "Seconds to wait before asking again.",
                "schema": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Task"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "description": "The task already finished.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/me/usage": {
      "get": {
        "operationId": "getUsage",
        "summary": "The caller's limits and what is spent and reserved",
        "responses": {
          "200": {
            "description": "Usage.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Usage"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "503": {
            "$ref": "#/components/responses/Unavailable"
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "getOpenAPIDocument",
        "summary": "This document",
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/healthz": {
      "get": {
        "operationId": "getHealth",
        "summary": "Liveness: the process answers",
        "security": [],
        "responses": {
          "200": {
            "description": "Alive.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "getReadiness",
        "summary": "Readiness: PostgreSQL and Redis answer",
        "security": [],
        "responses": {
          "200": {
            "description": "Ready.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "503": {
            "description": "A dependency does not answer.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "getMetrics",
        "summary": "Prometheus metrics",
        "security": [],
        "responses": {
          "200": {
            "description": "Prometheus text format.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `imagegen admin keys create`."
      }
    },
    "responses": {
      "BadRequest": {
        "description": "The body is not a JSON object or not JSON, or a query parameter or header is invalid.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "Missing, unknown or revoked API key.",
        "headers": {
          "WWW-Authenticate": {
            "schema": {
              "type": "string"
            }
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotFound": {
        "description": "No such task for this API key (or no such image).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooLarge": {
        "description": "The body is over 262,144 bytes.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotJSON": {
        "description": "The body was not sent as application/json.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Invalid": {
        "description": "A field has the wrong type or a value the model does not accept; `field` names it.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooManyWaiters": {
        "description": "The caller already holds as many long polls and event streams open as it may (WAITERS_PER_USER).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "headers": {
          "Retry-After": {
            "description": "Seconds to wait before asking again.",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        }
      },
      "Unavailable": {
        "description": "PostgreSQL does not answer; try again shortly.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "object",
            "required": [
              "code",
              "message"
            ],
            "properties": {
              "code": {
                "type": "string"
              },
              "message": {
                "type": "string"
              },
              "field": {
                "type": "string"
              }
            },
            "additionalProperties": {
              "type": "string"
            }
          }
        }
      },
      "ImageRequest": {
        "type": "object",
        "required": [
          "prompt"
        ],
        "additionalProperties": false,
        "properties": {
          "prompt": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32000,
            "description": "The model's own limit applies: 4,000 characters for dall-e-3, 1,000 for dall-e-2, 32,000 for gpt-image-1."
          },
          "model": {
            "type": [
              "string",
              "null"
            ],
            "examples": [
              "dall-e-3",
              "dall-e-2",
              "gpt-image-1"
            ],
            "description": "Defaults to the server's DEFAULT_MODEL."
          },
          "size": {
            "type": [
              "string",
              "null"
            ],
            "examples": [
              "1024x1024",
              "256x256"
            ]
          },
          "quality": {
            "type": [
              "string",
              "null"
            ],
            "examples": [
              "standard",
              "hd",
              "low"
            ]
          },
          "style": {
            "type": [
              "string",
              "null"
            ],
            "examples": [
              "vivid",
              "natural"
            ]
          },
          "n": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "maximum": 10
          },
          "user": {
            "type": [
              "string",
              "null"
            ],
            "maxLength": 256,
            "description": "Your end user's id, passed to the provider."
          }
        },
        "examples": [
          {
            "prompt": "a lighthouse at dawn",
            "model": "dall-e-2",
            "size": "256x256"
          }
        ]
      },
      "Accepted": {
        "type": "object",
        "required": [
          "task_id",
          "status",
          "status_url"
        ],
        "properties": {
          "task_id": {
            "type": "string",
            "format": "uuid"
          },
          "status": {
            "$ref": "#/components/schemas/TaskStatus"
          },
          "status_url": {
            "type": "string"
          }
        }
      },
      "TaskStatus": {
        "type": "string",
        "enum": [
          "queued",
          "running",
          "retrying",
          "succeeded",
          "failed",
          "canceled"
        ]
      },
      "Task": {
        "type": "object",
        "required": [
          "task_id",
          "status",
          "model",
          "size",
          "quality",
          "n",
          "prompt",
          "attempts",
          "max_attempts",
          "created_at"
        ],
        "properties": {
          "task_id": {
            "type": "string",
            "format": "uuid"
          },
          "status": {
            "$ref": "#/components/schemas/TaskStatus"
          },
          "model": {
            "type": "string"
          },
          "size": {
            "type": "string"
          },
          "quality": {
            "type": "string"
          },
          "n": {
            "type": "integer"
          },
          "prompt": {
            "type": "string"
          },
          "attempts": {
            "type": "integer",
            "minimum": 0
          },
          "max_attempts": {
            "type": "integer",
            "minimum": 1
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "started_at": {
            "type": "string",
            "format": "date-time"
          },
          "finished_at": {
            "type": "string",
            "format": "date-time"
          },
          "next_attempt_at": {
            "type": "string",
            "format": "date-time"
          },
          "error": {
            "type": "object",
            "required": [
              "code",
              "message"
            ],
            "properties": {
              "code": {
                "type": "string"
              },
              "message": {
                "type": "string"
              }
            }
          },
          "cancel_requested": {
            "type": "boolean"
          },
          "cost_usd": {
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]{6}$"
          },
          "cost_micro_usd": {
            "type": "integer",
            "minimum": 0
          },
          "image_urls": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "images": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "b64_json",
                "media_type",
                "url"
              ],
              "properties": {
                "b64_json": {
                  "type": "string"
                },
                "media_type": {
                  "type": "string"
                },
                "revised_prompt": {
                  "type": "string"
                },
                "url": {
                  "type": "string"
                }
              }
            }
          },
          "images_purged_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "TaskList": {
        "type": "object",
        "required": [
          "tasks",
          "next_cursor"
        ],
        "properties": {
          "tasks": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Task"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "Estimate": {
        "type": "object",
        "required": [
          "model",
          "size",
          "quality",
          "n",
          "cost_usd",
          "cost_micro_usd",
          "fits_limits",
          "refused_by"
        ],
        "properties": {
          "model": {
            "type": "string"
          },
          "size": {
            "type": "string"
          },
          "quality": {
            "type": "string"
          },
          "n": {
            "type": "integer"
          },
          "cost_usd": {
            "type": "string"
          },
          "cost_micro_usd": {
            "type": "integer",
            "minimum": 0
          },
          "fits_limits": {
            "type": "boolean"
          },
          "refused_by": {
            "oneOf": [
              {
                "type": "null"
              },
              {
                "type": "object",
                "required": [
                  "status",
                  "code",
                  "message"
                ],
                "properties": {
                  "status": {
                    "type": "integer"
                  },
                  "code": {
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  }
                }
              }
            ]
          }
        }
      },
      "SpendPeriod": {
        "type": "object",
        "required": [
          "starts_on",
          "limit_usd",
          "spent_usd",
          "reserved_usd",
          "remaining_usd",
          "resets_at"
        ],
        "properties": {
          "starts_on": {
            "type": "string"
          },
          "limit_usd": {
            "type": [
              "string",
              "null"
            ]
          },
          "spent_usd": {
            "type": "string"
          },
          "reserved_usd": {
            "type": "string"
          },
          "remaining_usd": {
            "type": [
              "string",
              "null"
            ]
          },
          "resets_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "ImagePeriod": {
        "type": "object",
        "required": [
          "limit",
          "used",
          "remaining",
          "resets_at"
        ],
        "properties": {
          "limit": {
            "type": [
              "integer",
              "null"
            ]
          },
          "used": {
            "type": "integer"
          },
          "remaining": {
            "type": [
              "integer",
              "null"
            ]
          },
          "resets_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "Usage": {
        "type": "object",
        "required": [
          "time_zone",
          "day",
          "month",
          "images"
        ],
        "properties": {
          "time_zone": {
            "type": "string"
          },
          "day": {
            "$ref": "#/components/schemas/SpendPeriod"
          },
          "month": {
            "$ref": "#/components/schemas/SpendPeriod"
          },
          "images": {
            "type": "object",
            "required": [
              "hour",
              "day"
            ],
            "properties": {
              "hour": {
                "$ref": "#/components/schemas/ImagePeriod"
              },
              "day": {
                "$ref": "#/components/schemas/ImagePeriod"
              }
            }
          }
        }
      },
      "Health": {
        "type": "object",
        "required": [
          "status"
        ],
        "properties": {
          "status": {
            "type": "string"
          }
        },
        "additionalProperties": true
      }
    }
  }
}
"""#
}
