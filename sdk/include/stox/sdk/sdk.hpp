// SPDX-License-Identifier: Apache-2.0
/// \file sdk.hpp
/// Umbrella header: everything a plugin needs.
#pragma once

#include "stox/sdk/abi.hpp"
#include "stox/sdk/bus.hpp"
#include "stox/sdk/config.hpp"
#include "stox/sdk/context.hpp"
#include "stox/sdk/events/core.hpp"
#include "stox/sdk/executor.hpp"
#include "stox/sdk/logger.hpp"
#include "stox/sdk/mapping.hpp"
#include "stox/sdk/metrics.hpp"
#include "stox/sdk/plugin.hpp"
#include "stox/sdk/sip.hpp"
#include "stox/sdk/status.hpp"
#include "stox/sdk/text.hpp"
#include "stox/sdk/xml.hpp"
#include "stox/sdk/xmpp.hpp"
