-- wrk is closed-loop: one connection waiting 5 ms between requests makes
-- about 200 requests per second, the rate the issue asks for.
function delay()
  return 5
end
