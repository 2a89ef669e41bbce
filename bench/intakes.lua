-- wrk script: POST realistic intakes to /api/v1/intakes from many client
-- addresses (X-Forwarded-For, believed because the load script trusts
-- 127.0.0.1 as a proxy), so the per-address limiter stays on but is not hit.

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local bodies = {
  [[{"message":"Typeform submits but the HubSpot contact never gets the lead source or the UTM; my client jane@acme.test saw it twice this week","affected_tools":"Typeform, HubSpot, Zapier","expected_next_step":"contact created with source and tag","actual_stopping_point":"contact created without source","contact_email":"owner@mybiz.test","consent":true}]],
  [[{"message":"Paid in Stripe but the Kajabi offer never unlocks for about 1 in 10 buyers. Our key sk_live_4eC39HqLyjWDarjtT1zdp7dc is in Zapier if that matters","affected_tools":"Stripe, Kajabi, Zapier","customer_state":"paid customer","access_expectation":"course access right after checkout","business_risk":"refund requests and angry emails","deadline":"before Friday's launch"}]],
  [[{"message":"Calendly bookings do not create the deal in Pipedrive, so the sales call shows up nowhere and the owner is never assigned","source_path":"https://mybiz.test/book-a-call?utm_source=youtube","affected_tools":"Calendly, Pipedrive","booking_or_payment_status":"booked","field_or_tag_expectation":"deal in stage Booked"}]],
  [[{"message":"Our GoHighLevel welcome sequence goes out before the member has access, people reply that the login link is broken. Example: contact Dana Whitfield, +1 415 555 0132, joined Monday","affected_tools":"GoHighLevel, MemberPress","followup_state":"welcome email sent at signup","testing_expectation":"a test contact through the whole path"}]],
  [[{"message":"How do I see which ad the leads come from? The numbers in Meta and in ActiveCampaign do not match and I cannot tell which step fails","affected_tools":"Meta Ads, ActiveCampaign, Google Sheets","reporting_need":"cost per lead by campaign"}]],
}

math.randomseed(os.time())

request = function()
  local ip = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  wrk.headers["X-Forwarded-For"] = ip
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end

-- Count the 201s over all threads, so the harness can check that every
-- acknowledged intake is in the store ("created N" after wrk's report).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  created = 0
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("created")
  end
  io.write(string.format("created %d\n", total))
end
