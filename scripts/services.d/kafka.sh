# shellcheck shell=bash
# Apache Kafka as a real single-node KRaft broker (controller + broker in one JVM) on 127.0.0.1:9092, from the
# kafka_2.13 jar and its runtime dependencies on Maven Central (fetched once by Maven into .cache/kafka/libs), run on
# the machine's Java 17. Data under /var/lib/flowcrew-kafka. The JVM starts in the background; kafka_wait (AFTER_START)
# waits for the port. Sourced by scripts/services.
DEFAULT_SERVICES+=(kafka)
KAFKA_VERSION="${FLOWCREW_KAFKA_VERSION:-3.9.1}"
KAFKA_PORT="${FLOWCREW_KAFKA_PORT:-9092}"
KAFKA_CACHE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.cache/kafka"
KAFKA_DATA=/var/lib/flowcrew-kafka

kafka_up() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; }

kafka_fetch() {
  [ -f "$KAFKA_CACHE/libs/.complete-$KAFKA_VERSION" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  log "fetching kafka_2.13 $KAFKA_VERSION and its dependencies from Maven Central"
  mkdir -p "$KAFKA_CACHE"
  cat >"$KAFKA_CACHE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.flowcrew</groupId><artifactId>kafka-broker</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$KAFKA_CACHE/libs"
  mvn -q -B -f "$KAFKA_CACHE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_CACHE/libs" \
    || die "could not fetch the Kafka jars from Maven Central"
  touch "$KAFKA_CACHE/libs/.complete-$KAFKA_VERSION"
}

service_kafka() {
  if kafka_up; then
    log "kafka already running on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  kafka_fetch
  as_root install -d -m 755 "$KAFKA_DATA"
  as_root tee "$KAFKA_DATA/server.properties" >/dev/null <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$((KAFKA_PORT + 1))
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$((KAFKA_PORT + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  as_root tee "$KAFKA_DATA/log4j.properties" >/dev/null <<'LOG'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=/var/lib/flowcrew-kafka/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
LOG
  local java=(java -Xms256m -Xmx512m -XX:+UseG1GC -Dlog4j.configuration="file:$KAFKA_DATA/log4j.properties" -cp "$KAFKA_CACHE/libs/*")
  if [ ! -f "$KAFKA_DATA/logs/meta.properties" ]; then
    log "formatting the KRaft log directory"
    as_root "${java[@]}" kafka.tools.StorageTool format -t MkU3OEVBNTcwNTJENDM2Qg -c "$KAFKA_DATA/server.properties" --ignore-formatted >/dev/null \
      || die "kafka storage format failed"
  fi
  log "starting kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT in the background"
  as_root setsid "${java[@]}" kafka.Kafka "$KAFKA_DATA/server.properties" >/tmp/flowcrew-kafka.log 2>&1 </dev/null &
  AFTER_START+=(kafka_wait)
}

kafka_wait() {
  local i
  for i in $(seq 1 120); do
    kafka_up && { log "kafka ready"; return 0; }
    sleep 0.5
  done
  die "kafka did not listen on 127.0.0.1:$KAFKA_PORT within 60 s (see /tmp/flowcrew-kafka.log and $KAFKA_DATA/server.log)"
}
