# klaxon in a small image: built on Debian 12, run as a non-root user
# with the journal on a volume.
FROM debian:bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        gcc make pkg-config git ca-certificates libmicrohttpd-dev \
        libcurl4-openssl-dev libjansson-dev libssl-dev libconfig-dev \
        libsqlite3-dev libhidapi-dev libgpiod-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make klaxon

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates libmicrohttpd12 libcurl4 libjansson4 libssl3 \
        libconfig9 libsqlite3-0 libhidapi-hidraw0 libgpiod2 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/klaxon --shell /usr/sbin/nologin \
        klaxon \
    && mkdir -p /var/lib/klaxon /etc/klaxon \
    && chown klaxon:klaxon /var/lib/klaxon
COPY --from=build /src/klaxon /usr/local/bin/klaxon
COPY conf/klaxon.conf /etc/klaxon/klaxon.conf
# Listen on all addresses inside the container; journal on the volume.
RUN sed -i -e 's|listen = \["127.0.0.1:8080"\];|listen = ["*:8080"];|' \
           -e 's|path = "klaxon.db";|path = "/var/lib/klaxon/klaxon.db";|' \
           -e 's|baseline = "baseline.db";|baseline = "/var/lib/klaxon/baseline.db";|' \
        /etc/klaxon/klaxon.conf
USER klaxon
WORKDIR /var/lib/klaxon
VOLUME /var/lib/klaxon
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/klaxon"]
CMD ["serve", "-c", "/etc/klaxon/klaxon.conf"]
